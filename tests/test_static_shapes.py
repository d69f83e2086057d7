"""Static shapes equal the shapes PyTorch produces, for every node of every zoo file.

The modules are built on the meta device: only shapes matter, and ImageNet-sized networks would
otherwise cost seconds and gigabytes each."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import cnndsl
from cnndsl.lower.torch_module import module_key, to_module

ARCHS = sorted((Path(__file__).resolve().parents[1] / "archs").glob("*.arch"))


@pytest.mark.parametrize("arch", ARCHS, ids=lambda p: p.stem)
def test_every_node_shape_matches_pytorch(arch):
    graph = cnndsl.analyze(arch)
    with torch.device("meta"):
        module = to_module(graph)
    seen: dict[str, tuple[int, ...]] = {}
    for key, layer in module.layers.items():
        layer.register_forward_hook(lambda m, i, out, key=key: seen.__setitem__(key, tuple(out.shape[1:])))
    module.eval()
    with torch.no_grad():
        module(torch.empty(2, *module.input_shape, device="meta"))
    for node in graph.ops():
        assert seen[module_key(node.id)] == node.shape, node.id
