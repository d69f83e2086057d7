"""For every zoo file, the static MACs equal `FlopCounterMode` / 2 on the compiled module, the
torchvision convention. On the meta device: FlopCounterMode counts from shapes alone."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cnndsl
from cnndsl.lower import to_module

ARCHS = sorted((Path(__file__).resolve().parents[1] / "archs").glob("*.arch"))


@pytest.mark.parametrize("arch", ARCHS, ids=lambda p: p.stem)
def test_static_macs_equal_flop_counter_mode(arch):
    graph = cnndsl.analyze(arch)
    with torch.device("meta"):
        module = to_module(graph).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.empty(1, *module.input_shape, device="meta"))
    assert 2 * sum(n.meta["macs"] for n in graph.ops()) == counter.get_total_flops()
