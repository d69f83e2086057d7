"""The value language computes the 2017-2022 recipes in the file: `def`s, comprehensions, `zip`,
`enumerate`, `cumsum`, `log`, ... RegNet's stage widths, depths and group widths and
EfficientNet's per-block stochastic-depth rates, from cnndsl/stdlib/modern.arch, equal what
torchvision computes at test time (its builders are run and their own numbers read back)."""
from __future__ import annotations

import pytest

from cnndsl.elaborate import file_values, load_program
from test_diagnostics import caret_under, check

REGNETS = ["regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf",
           "regnet_y_16gf", "regnet_y_32gf"]
EFFICIENTNETS = [f"efficientnet_b{i}" for i in range(8)] + [f"efficientnet_v2_{s}" for s in "sml"]


def values(write_arch, text: str) -> dict:
    return file_values(load_program(write_arch('include "modern.arch"\n' + text)))


def _torchvision_regnet(name: str) -> tuple[dict, object]:
    """The init parameters torchvision's builder passes to BlockParams.from_init_params, and the
    BlockParams it computes from them (the model itself is not built)."""
    from torchvision.models import regnet

    seen: dict = {}
    original = regnet.BlockParams.from_init_params.__func__

    def spy(cls, **kwargs):
        seen.update(kwargs)
        return original(cls, **kwargs)

    class Stop(Exception):
        pass

    def stop(block_params, *args, **kwargs):
        seen["result"] = block_params
        raise Stop

    mp = pytest.MonkeyPatch()
    mp.setattr(regnet.BlockParams, "from_init_params", classmethod(spy))
    mp.setattr(regnet, "_regnet", stop)
    try:
        with pytest.raises(Stop):
            getattr(regnet, name)()
    finally:
        mp.undo()
    return seen, seen.pop("result")


@pytest.mark.parametrize("name", REGNETS)
def test_regnet_stage_widths_depths_and_groups_equal_torchvision(write_arch, name):
    init, reference = _torchvision_regnet(name)
    args = ", ".join(f"{k}={init[k]!r}" for k in ("depth", "w_0", "w_a", "w_m"))
    got = values(write_arch, f"let w = regnet_widths({args}, group_width={init['group_width']})\n"
                             f"let d = regnet_depths({args})\n"
                             f"let g = regnet_group_widths({args}, group_width={init['group_width']})\n")
    assert got["w"] == reference.widths
    assert got["d"] == reference.depths
    assert got["g"] == reference.group_widths


def _torchvision_sd_probs(name: str) -> list[list[float]]:
    """Each stage's blocks' StochasticDepth.p in the model torchvision builds (on the meta device)."""
    import torch
    import torchvision
    from torchvision.ops import StochasticDepth

    with torch.device("meta"):
        model = getattr(torchvision.models, name)()
    stages = [m for m in model.features if isinstance(m, torch.nn.Sequential)
              and any(isinstance(x, StochasticDepth) for x in m.modules())]
    return [[x.p for x in stage.modules() if isinstance(x, StochasticDepth)] for stage in stages]


def _torchvision_effnet_recipe(name: str) -> tuple[list[int], float]:
    """Each stage's layer count before scaling and the depth multiplier torchvision's builder uses."""
    from torchvision.models import efficientnet

    confs, _ = efficientnet._efficientnet_conf(name, width_mult=1.0, depth_mult=1.0)
    layers = [c.num_layers for c in confs]
    if name.startswith("efficientnet_v2"):
        return layers, 1.0
    captured: dict = {}
    original = efficientnet._efficientnet_conf

    def spy(arch, **kwargs):
        captured.update(kwargs)
        return original(arch, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(efficientnet, "_efficientnet_conf", spy)
    mp.setattr(efficientnet, "_efficientnet", lambda *a, **k: None)
    try:
        getattr(efficientnet, name)()
    finally:
        mp.undo()
    return layers, captured["depth_mult"]


@pytest.mark.parametrize("name", EFFICIENTNETS)
def test_efficientnet_per_block_drop_rates_equal_torchvision(write_arch, name):
    layers, depth_mult = _torchvision_effnet_recipe(name)
    got = values(write_arch, f"let drop = efficientnet_drop_rates({layers}, {depth_mult})\n"
                             f"let keep = efficientnet_survival({layers}, {depth_mult})\n"
                             f"let depths = efficientnet_depths({layers}, {depth_mult})\n")
    reference = _torchvision_sd_probs(name)
    assert got["drop"] == reference  # exactly: the same float operations in the same order
    assert got["keep"] == [[1.0 - p for p in stage] for stage in reference]
    assert got["depths"] == [len(stage) for stage in reference]


@pytest.mark.parametrize("name", ["efficientnet_b0", "efficientnet_b3", "efficientnet_b7"])
def test_efficientnet_channels_equal_torchvision(write_arch, name):
    from torchvision.models import efficientnet

    width = {"efficientnet_b0": 1.0, "efficientnet_b3": 1.2, "efficientnet_b7": 2.0}[name]
    confs, _ = efficientnet._efficientnet_conf(name, width_mult=width, depth_mult=1.0)
    base = [c.out_channels for c in efficientnet._efficientnet_conf(name, width_mult=1.0, depth_mult=1.0)[0]]
    got = values(write_arch, f"let c = efficientnet_channels({base}, {width})\n")
    assert got["c"] == [c.out_channels for c in confs]


def test_make_divisible_equals_torchvision_over_a_range(write_arch):
    from torchvision.models._utils import _make_divisible

    cases = [(v / 4, d) for v in range(1, 800, 7) for d in (8, 4, 16)]
    got = values(write_arch, f"let r = [make_divisible(v, d) for v, d in {[list(c) for c in cases]}]\n"
                             "let m = make_divisible(3, 8, min_value=4)\n")
    assert got["r"] == [_make_divisible(v, d) for v, d in cases]
    assert got["m"] == _make_divisible(3, 8, 4)


def test_comprehensions_and_the_new_builtins(write_arch):
    got = values(write_arch, "let a = [x * 2 for x in range(5) if x % 2 == 0]\n"
                             "let b = [i * x for i, x in enumerate([5, 6, 7], 1)]\n"
                             "let c = [x + y for x, y in zip([1, 2, 3], [10, 20])]\n"
                             "let d = cumsum([1, 2, 3.5])\n"
                             "let e = [round(log(8, 2)), round(exp(0)), sqrt(16), pow(2, 10), 2 ** 0.5 > 1.41]\n"
                             "let f = [any([false, true]), all([true, false]), sum(a)]\n"
                             "let g = [k for k in {\"a\": 1, \"b\": 2}]\n")
    assert got["a"] == [0, 4, 8]
    assert got["b"] == [5, 12, 21]
    assert got["c"] == [11, 22]
    assert got["d"] == [1, 3, 6.5]
    assert got["e"] == [3, 1, 4.0, 1024, True]
    assert got["f"] == [True, False, 12]
    assert got["g"] == ["a", "b"]


def test_a_def_sees_its_parameters_and_file_lets_not_its_caller(write_arch, capsys):
    got = values(write_arch, "let scale = 3\ndef f(x, y=x + 1) = (x + y) * scale\n"
                             "let a = [f(1), f(1, 5), f(y=0, x=2)]\n")
    assert got["a"] == [9, 18, 6]
    text = "def f(x) = x + hidden\nblock b(hidden) = 3x3:(f(1))\nnetwork n : 3x8x8 = b(2)\n"
    err, line, col, msg = check(write_arch, capsys, text)
    assert (line, col, msg) == (1, 16, "unknown name `hidden`")


@pytest.mark.parametrize("text, where, message, under", [
    ("def f(n) = f(n + 1)\nlet a = f(0)\n", (1, 12), "the calls nest more than 50 deep: f (line 1) -> f (line 1)",
     "f(n + 1)"),
    ("def f(n) = g(n)\ndef g(n) = f(n)\nlet a = f(0)\n", (2, 12),
     "the calls nest more than 50 deep: f (line 1) -> g (line 2) -> f (line 1)", "f(n)"),
    ("def f(x, y) = x\nlet a = f(1, 2, 3)\n", (2, 9), "`f` takes 2 arguments, got 3", "f(1, 2, 3)"),
    ("def f(x, y) = x\nlet a = f(1, z=2)\n", (2, 14), "`f` has no parameter `z`", "z=2"),
    ("def f(x, y) = x\nlet a = f(1)\n", (2, 9), "`f` needs a value for `y`", "f(1)"),
    ("def f(x, y) = x\nlet a = f(1, x=2)\n", (2, 14), "`x` is given twice", "x=2"),
    ("def f(x) = x\ndef f(y) = y\n", (2, 1), "`f` is defined twice", "def f(y) = y"),
    ("def max(x) = x\n", (1, 1), "`max` is a built-in function; give the `def` another name", "def max(x) = x"),
    ("def f(x, x) = x\n", (1, 10), "the parameter `x` is named twice", "x"),
    ("let a = [i for i, x in [1, 2]]\n", (1, 9), "cannot unpack 1 into 2 names (i, x)", "[i for i, x in [1, 2]]"),
    ("let a = [i for i in 3]\n", (1, 21), "`for` goes over a list, got an integer (3)", "3"),
    ("let a = [i for i in range(3) if i]\n", (1, 33), "a condition must be true or false, got an integer (0)", "i"),
    ("let a = log(0)\n", (1, 9), "bad arguments to `log`: math domain error", "log(0)"),
    ("let a = exp(1000)\n", (1, 9), "bad arguments to `exp`: math range error", "exp(1000)"),
    ("let a = pow(10, 100)\n", (1, 9), "bad arguments to `pow`: 10 ** 100 is too large", "pow(10, 100)"),
    ("let a = cumsum([1, [2]])\n", (1, 9), "bad arguments to `cumsum`: `cumsum` takes a list of numbers",
     "cumsum([1, [2]])"),
    ("def f(x) = x\nlet a = g(1)\n", (2, 9), "unknown function `g`", "g(1)"),
    ("def f(x) = x\nblock b = relu -> f(3)\n", (2, 19), "`f` is a value function (`def`), not a layer", "f(3)"),
])
def test_value_errors_are_located(write_arch, capsys, text, where, message, under):
    err, line, col, msg = check(write_arch, capsys, text + "network n : 3x8x8 = relu" + (
        " -> b\n" if "block b" in text else "\n"))
    assert (line, col) == where, err
    assert msg.startswith(message), err
    assert caret_under(err, "") == under, err


def test_hostile_recursion_and_huge_comprehensions_stay_fast_and_located(write_arch, capsys):
    import time

    cases = {
        "def f(n) = n == 0 ? 1 : f(n - 1) + f(n - 1)\nlet a = f(40)\n": "more than 1,000,000 steps",
        "let a = [[i for i in range(100000)] for j in range(100000)]\n": "more than 1,000,000 steps",
        "let a = [range(100000) for j in range(100000)]\n": "more than 1,000,000 steps",
        "def f(xs) = f([xs, xs])\nlet a = f([1])\n": "this value holds more than 100,000 values",
        "def f(n) = [f(n + 1) for i in range(2)]\nlet a = f(0)\n": "the calls nest more than 50 deep",
    }
    for text, message in cases.items():
        start = time.perf_counter()
        err, line, col, msg = check(write_arch, capsys, text + "network n : 3x8x8 = relu\n")
        assert message in msg, err
        assert time.perf_counter() - start < 10, text
