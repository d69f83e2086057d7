"""Deep inputs elaborate; absurd ones are refused with a clear error instead of hanging.
(Speed is measured in bench/elaborate.py; these tests check behaviour.)"""
from __future__ import annotations

from pathlib import Path

import pytest

import cnndsl
from cnndsl.diagnostics import CnnDslError

ARCHS = Path(__file__).resolve().parents[1] / "archs"


def test_a_resnet_1202_sized_network_elaborates():
    report = cnndsl.report(ARCHS / "resnet_cifar.arch", depth=1202)
    # He et al. 2015, Table 6: ResNet-1202 (n=200) has 19.4M parameters.
    assert round(report.params / 1e6, 1) == 19.4
    assert sum(1 for layer in report.layers if layer.op == "conv") == 6 * 200 + 1


@pytest.mark.parametrize("text, message", [
    ("network n : 3x8x8 = relu*10**9\n", "a repeat count must be between 0 and 10000, got 1000000000"),
    ("network n : 3x8x8 = relu*(10**10**10)\n", "10 ** 10000000000 is too large"),
    ("network n : 3x8x8 = [relu for i in range(10**9)]\n", "range of 1000000000 items is larger than 100000"),
    ("block f(c) = f(c)\nnetwork n : 3x8x8 = f(1)\n", "blocks nest more than 100 deep"),
    ("block f(c) = 3x3:c -> f(c)\nnetwork n : 3x8x8 = f(1)\n", "blocks nest more than 100 deep"),
    ("network n : 3x8x8 = (relu*5000)*5000\n", "the network has more than 250000 layers"),
])
def test_absurd_inputs_are_refused(write_arch, text, message):
    with pytest.raises(CnnDslError, match=message.replace("*", r"\*")):
        cnndsl.analyze(write_arch(text))


def test_deep_nesting_of_parentheses_is_refused(write_arch):
    text = "network n : 3x8x8 = " + "(" * 5000 + "relu" + ")" * 5000 + "\n"
    with pytest.raises(CnnDslError, match="nested too deeply"):
        cnndsl.analyze(write_arch(text))
