"""The Python API: `cnndsl.load` gives a trainable module; the analysis is a networkx graph."""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
import torch

import cnndsl

ARCHS = Path(__file__).resolve().parents[1] / "archs"
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_load_resnet50_with_ten_classes_runs_forward_and_backward(device):
    model = cnndsl.load(ARCHS / "resnet50.arch", num_classes=10).to(device).train()
    x = torch.randn(2, 3, 224, 224, device=device)
    out = model(x)
    assert out.shape == (2, 10)
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert all(torch.isfinite(g).all() for g in grads)


def test_analysis_is_a_networkx_graph_with_per_node_results():
    graph = cnndsl.analyze(ARCHS / "resnet18.arch")
    assert isinstance(graph.nx, nx.DiGraph) and nx.is_directed_acyclic_graph(graph.nx)
    for node in graph.ops():
        assert {"shape", "params", "macs", "flops", "buffers"} <= set(node.meta)
        assert node.span.file == str(ARCHS / "resnet18.arch") or node.span.file.endswith(".arch")
    assert list(nx.topological_sort(graph.nx))[0] == "input"


def test_parameters_can_be_set_from_python():
    assert cnndsl.report(ARCHS / "resnet.arch", depth=34).params == sum(
        p.numel() for p in cnndsl.load(ARCHS / "resnet.arch", depth=34).parameters())
