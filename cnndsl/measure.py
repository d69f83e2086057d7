"""Measurements on a compiled module, to check the static cost model against and to time networks.

Each function runs the module for real (or on the meta device, where only shapes matter) and
observes it through PyTorch's own machinery: saved-tensor hooks for the memory autograd keeps,
a dispatch mode for the tensors alive at each layer, input gradients for receptive fields, the
clock for latency. Imports torch.
"""
from __future__ import annotations

import statistics
import time
from itertools import chain

import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


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


def live_bytes_per_layer(module, x: torch.Tensor) -> dict[str, int]:
    """For a `CompiledNetwork` in evaluation under no_grad: {layer key: bytes of the activations
    alive just after the layer made its output} (the input included, which the caller holds)."""
    module.eval()
    alloc = _Allocations(chain(module.parameters(), module.buffers(), [x]))
    out: dict[str, int] = {}
    base = x.untyped_storage().nbytes()
    def hook(key):
        def record(mod, args, result):
            out[key] = base + alloc.live_bytes()
        return record

    handles = [m.register_forward_hook(hook(k)) for k, m in module.layers.items()]
    try:
        with torch.no_grad(), alloc:
            module(x)
    finally:
        for h in handles:
            h.remove()
    return out


class _Stop(Exception):
    pass


def gradient_extents(module, x: torch.Tensor, targets: dict[str, tuple[int, int]]):
    """For each `CompiledNetwork` layer key in `targets`, and each sample of the batch `x`: the rows
    and columns, as ((first, last), (first, last)), of the input pixels whose gradient is nonzero
    for that layer's output at the target position (summed over channels). Runs the module once,
    up to the last target layer, and one backward pass per target."""
    captured: dict[str, torch.Tensor] = {}

    def grab(key):
        def hook(mod, args, result):
            captured[key] = result
            if len(captured) == len(targets):
                raise _Stop
        return hook

    handles = [module.layers[k].register_forward_hook(grab(k)) for k in targets]
    x = x.detach().requires_grad_(True)
    try:
        module(x)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
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
