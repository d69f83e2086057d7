"""Measurements on a compiled module, to check the static cost model against and to time networks.

Each function runs the module for real (or on the meta device, where only shapes matter) and
observes it through PyTorch's own machinery: saved-tensor hooks for the memory autograd keeps,
a dispatch mode for the tensors alive at each layer, input gradients for receptive fields, the
clock for latency. Imports torch.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.multiprocessing.reductions import StorageWeakRef
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from .ir import Graph


def _key(t: torch.Tensor) -> int:
    """One key per storage: views share it; it works on the meta device, where data_ptr is 0."""
    return t.untyped_storage()._cdata


def saved_tensor_bytes(module: nn.Module, x: torch.Tensor) -> dict[int, int]:
    """{storage: bytes} of every tensor autograd keeps for backward during a training-mode forward
    pass, parameters and buffers left out, each storage once. The module is left in training mode."""
    state = {_key(t) for t in chain(module.parameters(), module.buffers())}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        if _key(t) not in state:
            seen[_key(t)] = t.untyped_storage().nbytes()
        return t

    module.train()
    with saved_tensors_hooks(pack, lambda t: t):
        out = module(x)
    del out  # the saved tensors were counted while the graph held them
    return seen


class _Allocations(TorchDispatchMode):
    """Remembers (weakly) every storage an op returns, to tell later which are still alive."""

    def __init__(self, ignore=()):
        super().__init__()
        self.storages: dict[int, tuple[StorageWeakRef, int]] = {}
        self.ignore = {_key(t) for t in ignore}  # parameters: `w.t()` returns one as if new

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and _key(t) not in self.storages and _key(t) not in self.ignore:
                self.storages[_key(t)] = (StorageWeakRef(t.untyped_storage()), t.untyped_storage().nbytes())
        return out

    def live_bytes(self) -> int:
        return sum(n for ref, n in self.storages.values() if not ref.expired())


@contextmanager
def observe(module: nn.Module, graph: Graph, seen: Callable[[str, torch.Tensor], Any]) -> Iterator[None]:
    """While active, `seen(node_id, output)` is called as each layer of the compiled `module` makes
    its output, for every op node of `graph`. Layers that are modules are seen by forward hooks (a
    node's id is its module's path); the ones written inline in a block's `forward` (`torch.cat`,
    `a + b`) by a torch-function mode, as the torch calls that block's `forward` makes itself, in
    order: each inline layer is one such call."""
    inline: dict[str, list[str]] = {}
    hooks, layers = [], []
    for node in graph.ops():
        lowering = node.opdef.lower(node.attrs, [graph[i].shape for i in node.inputs])
        if lowering.inline is not None:
            inline.setdefault(_parent(node.id), []).append(node.id)
        else:
            layers.append(module.get_submodule(node.id))
            hooks.append(layers[-1].register_forward_hook(_record(seen, node.id)))
    # the module whose own `forward` runs: a block (by path) or, inside a layer, None
    stack: list[str | None] = []
    blocks = [(p, m) for p, m in module.named_modules() if p in inline]
    for path, sub in blocks + [(None, m) for m in layers]:
        hooks.append(sub.register_forward_pre_hook(lambda m, a, path=path: stack.append(path)))
        hooks.append(sub.register_forward_hook(lambda m, a, r: None if stack.pop() else None))
    mode = _InlineCalls(stack, {p: iter(ids) for p, ids in inline.items()}, seen)
    try:
        with mode:
            yield
    finally:
        for h in hooks:
            h.remove()


def _parent(node_id: str) -> str:
    return node_id.rsplit(".", 1)[0] if "." in node_id else ""


def _record(seen, node_id: str):
    return lambda mod, args, out: seen(node_id, out)


class _InlineCalls(TorchFunctionMode):
    """Torch calls made by a block's own `forward` (not inside one of its layers) are its inline
    layers, in order; `stack` holds the blocks (by path) whose `forward` runs, innermost last."""

    def __init__(self, stack: list[str | None], pending: dict[str, Iterator[str]], seen):
        super().__init__()
        self.stack, self.pending, self.seen, self.depth = stack, pending, seen, 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.stack and self.stack[-1] is not None:
            node_id = next(self.pending[self.stack[-1]], None)
            if node_id is not None:
                self.seen(node_id, out)
        return out


def output_shapes(module, graph: Graph, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """{layer: the shape of one sample of its output} from one forward pass of the compiled module."""
    out: dict[str, tuple[int, ...]] = {}
    with torch.no_grad(), observe(module, graph, lambda node_id, r: out.__setitem__(node_id, tuple(r.shape[1:]))):
        module(x)
    return out


def live_bytes_per_layer(module, graph: Graph, x: torch.Tensor) -> dict[str, int]:
    """For a compiled network in evaluation under no_grad: {layer: bytes of the activations alive
    just after the layer made its output} (the input included, which the caller holds)."""
    module.eval()
    alloc = _Allocations(chain(module.parameters(), module.buffers(), [x]))
    out: dict[str, int] = {}
    base = x.untyped_storage().nbytes()

    def seen(node_id: str, result) -> None:
        out[node_id] = base + alloc.live_bytes()

    with torch.no_grad(), alloc, observe(module, graph, seen):
        module(x)
    return out


class _Stop(Exception):
    pass


def gradient_extents(module, graph: Graph, x: torch.Tensor, targets: dict[str, tuple[int, int]]):
    """For each layer in `targets`, and each sample of the batch `x`: the rows and columns, as
    ((first, last), (first, last)), of the input pixels whose gradient is nonzero for that layer's
    output at the target position (summed over channels). Runs the module once, up to the last
    target layer, and one backward pass per target."""
    captured: dict[str, torch.Tensor] = {}

    def seen(node_id: str, result) -> None:
        if node_id in targets:
            captured[node_id] = result
            if len(captured) == len(targets):
                raise _Stop

    x = x.detach().requires_grad_(True)
    try:
        with observe(module, graph, seen):
            module(x)
    except _Stop:
        pass
    out = {}
    for key, (u, v) in targets.items():
        (g,) = torch.autograd.grad(captured[key][:, :, u, v].sum(), x, retain_graph=True)
        out[key] = [_extent(g[b].abs().sum(0)) for b in range(g.shape[0])]
    return out


def _extent(g: torch.Tensor):
    nz = g.nonzero()
    return (int(nz[:, 0].min()), int(nz[:, 0].max())), (int(nz[:, 1].min()), int(nz[:, 1].max()))


def latency_ms(module: nn.Module, input_shape, batch: int = 1, device: str = "cpu",
               warmup: int = 2, repeat: int = 10) -> float:
    """Median wall time of an evaluation-mode forward pass, in milliseconds."""
    module = module.to(device).eval()
    x = torch.randn(batch, *input_shape, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeat):
            sync()
            t = time.perf_counter()
            module(x)
            sync()
            if i >= warmup:
                times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)
