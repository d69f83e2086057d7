"""Static shapes equal the shapes PyTorch produces, for every node of every zoo file.

The modules are built on the meta device: only shapes matter, and ImageNet-sized networks would
otherwise cost seconds and gigabytes each."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import cnndsl
from cnndsl.lower import to_module
from cnndsl.measure import output_shapes

ARCHS = sorted((Path(__file__).resolve().parents[1] / "archs").glob("*.arch"))


@pytest.mark.parametrize("arch", ARCHS, ids=lambda p: p.stem)
def test_every_node_shape_matches_pytorch(arch):
    graph = cnndsl.analyze(arch)
    with torch.device("meta"):
        module = to_module(graph)
    module.eval()
    seen = output_shapes(module, graph, torch.empty(2, *module.input_shape, device="meta"))
    for node in graph.ops():
        assert seen[node.id] == node.shape, node.id
