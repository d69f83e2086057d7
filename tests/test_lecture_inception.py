"""The lecture's inception arithmetic on a 256x28x28 input, counted as conv multiply-accumulates.

Expected values are the lecture's own terms, written out as products (output pixels x filters x
input channels x kernel area), so the test checks the tool against the arithmetic, not itself. The
slide prints 358M for the bottleneck version, but its six listed terms sum to 271,351,808 (358M
comes out only if the 3x3 term used 128 input channels)."""
from __future__ import annotations

import cnndsl

HW = 28 * 28
NAIVE_TERMS = [HW * 128 * 256 * 1, HW * 192 * 256 * 9, HW * 96 * 256 * 25]
BOTTLENECK_TERMS = [HW * 128 * 256, HW * 64 * 256, HW * 192 * 64 * 9, HW * 64 * 256, HW * 96 * 64 * 25,
                    HW * 64 * 256]


def _module(write_arch, body: str):
    text = f"unit = conv(bias=false) -> relu\nnetwork m : 256x28x28 = {body}\n"
    return cnndsl.report(write_arch(text))


def test_naive_inception_module(write_arch):
    r = _module(write_arch, "inception(1x1:128 | 3x3:192 | 5x5:96 | maxpool3x3)")
    assert sum(NAIVE_TERMS) == 854_196_224
    assert r.macs == sum(NAIVE_TERMS)
    assert r.outputs["output"] == [128 + 192 + 96 + 256, 28, 28] == [672, 28, 28]


def test_inception_module_with_1x1_bottlenecks(write_arch):
    r = _module(write_arch, "inception(1x1:128 | 3x3:192 <- 1x1:64 | 5x5:96 <- 1x1:64 | 1x1:64 <- maxpool3x3)")
    assert sum(BOTTLENECK_TERMS) == 271_351_808
    assert r.macs == sum(BOTTLENECK_TERMS)
    assert r.outputs["output"] == [480, 28, 28]


def test_the_slides_358m_needs_128_input_channels_on_the_3x3():
    wrong = BOTTLENECK_TERMS.copy()
    wrong[2] = HW * 192 * 128 * 9
    assert sum(wrong) == 358_055_936
