"""Graph IR -> a `torch.nn.Module`: the network's class from the generated source, instantiated.

There is one lowering: this is the source `cnndsl compile --emit python` writes, run in place, so
`cnndsl.load` and the emitted file give the same classes, qualified names and `state_dict` keys.

A network whose weights cannot fit in memory is a user error (`fc:(2**36)` asks for 800 GB), so it
is refused as one, at its largest layer, before torch is asked for the memory: torch's own answer is
a RuntimeError, or, where the system overcommits, the process killed while the weights are filled."""
from __future__ import annotations

from typing import Any

from ..diagnostics import CnnDslError, error
from ..ir import Graph, Node
from .loader import instantiate
from .python_source import generate

BYTES_PER_VALUE = 4  # float32, what torch's layers are made in


def to_module(graph: Graph) -> Any:
    check_fits(graph, available_bytes())
    source, class_name = generate(graph)
    try:
        return instantiate(source, class_name)
    except (MemoryError, RuntimeError) as exc:  # the estimate was short of torch's need
        if isinstance(exc, MemoryError) or "allocate memory" in str(exc) or "out of memory" in str(exc):
            raise too_big_for_memory(graph, weight_bytes(graph), available_bytes()) from None
        raise


def weight_bytes(graph: Graph) -> int:
    return BYTES_PER_VALUE * sum(n.meta.get("params", 0) + n.meta.get("buffers", 0) for n in graph)


def check_fits(graph: Graph, available: int | None) -> None:
    needed = weight_bytes(graph)
    if available is not None and needed > available:
        raise too_big_for_memory(graph, needed, available)


def too_big_for_memory(graph: Graph, needed: int, available: int | None) -> CnnDslError:
    largest: Node = max(graph, key=lambda n: n.meta.get("params", 0) + n.meta.get("buffers", 0))
    there = f", more than the {_size(available)} this process can have" if available is not None else ""
    return error(f"the network's weights take {_size(needed)}{there}", largest.span,
                 details=[f"the largest layer: `{largest.id}`, {largest.meta.get('params', 0):,} parameters"],
                 help="cnndsl check, summary and render need no memory for weights; building the module does")


def available_bytes() -> int | None:
    """What the process may still allocate: the system's available memory (Linux), within the
    process's address-space limit; None where neither is known."""
    limits = []
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource  # Unix only
    except ImportError:
        pass
    else:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            limits.append(soft)
    return min(limits) if limits else None


def _size(n: int | None) -> str:
    return f"{(n or 0) / 1e9:,.1f} GB" if (n or 0) >= 1e8 else f"{(n or 0) / 1e6:,.1f} MB"
