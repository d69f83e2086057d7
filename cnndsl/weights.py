"""Copying a torchvision model's weights into a compiled network of the same architecture.

Layers are matched in execution order: the order in which the torchvision model *runs* its
layers that hold weights or buffers (recorded with forward hooks, in training mode so that
auxiliary heads run too) against the order in which the compiled network runs its own, which is
the order of the `.arch` text. Every pair must agree on the shape of each tensor; the first that
does not is reported with both names. Registration order would not do: torchvision's GoogLeNet
registers its auxiliary heads after the last inception module but runs them in between.

A module's *own* tensors are what it is paired by: ConvNeXt's block holds its layer scale itself,
around the layers it contains, and uses it after them (`layer_scale * self.block(x)`), so a module
with children is placed where its forward returns, a leaf where its forward starts. A linear
layer applied to a channels-last map (ConvNeXt's pointwise `nn.Linear`) is a 1x1 convolution: its
(out, in) weight loads into a conv's (out, in, 1, 1).
"""
from __future__ import annotations

import torch
from torch import nn


class WeightMismatch(ValueError):
    pass


def _own_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors the module itself holds, not its children's: its parameters and persistent
    buffers (a constant index a module keeps for itself is not a weight)."""
    state = dict(module.named_parameters(recurse=False))
    state.update((name, b) for name, b in module.named_buffers(recurse=False)
                 if name not in module._non_persistent_buffers_set)
    return state


def _stateful(module: nn.Module) -> bool:
    return bool(_own_state(module))


def execution_order(model: nn.Module, example: torch.Tensor) -> list[tuple[str, nn.Module]]:
    """The modules of `model` that hold tensors, in the order a training-mode forward pass uses
    them (a leaf when called, a container when it returns). The model's buffers, mode and the
    random number generator are left as they were."""
    names = {m: n for n, m in model.named_modules() if _stateful(m)}
    order: list[tuple[str, nn.Module]] = []
    seen: set[nn.Module] = set()

    def record(module, *_):
        if module not in seen:
            seen.add(module)
            order.append((names[module], module))

    handles = [m.register_forward_hook(record) if any(True for _ in m.children())
               else m.register_forward_pre_hook(record) for m in names]
    # A forward pass changes buffers (BN running statistics), never parameters: save only those.
    saved = {k: v.clone() for k, v in model.named_buffers()}
    was_training = model.training
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            model.train()
            model(example)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
        with torch.no_grad():
            for k, v in model.named_buffers():
                v.copy_(saved[k])
    order += [(n, m) for m, n in names.items() if m not in seen]  # layers the forward never reached
    return order


def _squeezed(shape: torch.Size) -> tuple[int, ...]:
    """The shape without trailing 1s: a 1x1 conv's (out, in, 1, 1) weight is a linear's (out, in)."""
    dims = list(shape)
    while len(dims) > 1 and dims[-1] == 1:
        dims.pop()
    return tuple(dims)


Tensors = dict[str, torch.Tensor]


def _pairs(mine: Tensors, other: Tensors) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """Our tensors beside theirs: by name where both name the same tensors (BN's running
    statistics), else in registration order (a layer scale's one parameter, named differently);
    None where the shapes disagree."""
    if mine.keys() == other.keys():
        pairs = [(mine[k], other[k]) for k in mine]
    elif len(mine) == len(other):
        pairs = list(zip(mine.values(), other.values()))
    else:
        return None
    if all(a.shape == b.shape or _squeezed(a.shape) == _squeezed(b.shape) for a, b in pairs):
        return pairs
    return None


def _shapes(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def load_torchvision(network: nn.Module, model: nn.Module) -> nn.Module:
    """Copy `model`'s parameters and buffers into `network` (a compiled network), in place;
    returns `network`. Layers pair up in the order each network runs them."""
    device = next(model.parameters()).device
    example = torch.randn(2, *network.input_shape, device=device)
    ours, theirs = execution_order(network, example), execution_order(model, example)
    if len(ours) != len(theirs):
        raise WeightMismatch(f"the compiled network has {len(ours)} layers with weights, the model has {len(theirs)}"
                             + _first_difference(ours, theirs))
    with torch.no_grad():
        for (our_name, our), (their_name, their) in zip(ours, theirs):
            mine, other = _own_state(our), _own_state(their)
            pairs = _pairs(mine, other)
            if pairs is None:
                raise WeightMismatch(
                    f"`{our_name}` {_shapes(mine)} does not match torchvision's `{their_name}` {_shapes(other)}")
            for a, b in pairs:
                a.copy_(b.reshape(a.shape))
    return network


def _first_difference(ours, theirs) -> str:
    for (a, m), (b, n) in zip(ours, theirs):
        if _pairs(_own_state(m), _own_state(n)) is None:
            return f"; the first pair that disagrees is our `{a}` and their `{b}`"
    return ""
