"""Graph IR -> a `torch.nn.Module`: the network's class from the generated source, instantiated.

There is one lowering: this is the source `cnndsl compile --emit python` writes, run in place, so
`cnndsl.load` and the emitted file give the same classes, qualified names and `state_dict` keys."""
from __future__ import annotations

from typing import Any

from ..ir import Graph
from .loader import instantiate
from .python_source import generate


def to_module(graph: Graph) -> Any:
    source, class_name = generate(graph)
    return instantiate(source, class_name)
