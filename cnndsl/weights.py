"""Copying a torchvision model's weights into a compiled network of the same architecture.

Layers are matched in execution order: the order in which the torchvision model *runs* its
layers that hold weights or buffers (recorded with forward hooks, in training mode so that
auxiliary heads run too) against the order in which the compiled network runs its own, which is
the order of the `.arch` text. Every pair must agree on the shape of each tensor; the first that
does not is reported with both names. Registration order would not do: torchvision's GoogLeNet
registers its auxiliary heads after the last inception module but runs them in between.
"""
from __future__ import annotations

import torch
from torch import nn


class WeightMismatch(ValueError):
    pass


def _stateful(module: nn.Module) -> bool:
    """A layer with weights or statistics: something its `state_dict` holds (persistent buffers
    only: a constant index a module keeps for itself is not a weight)."""
    return any(True for _ in module.parameters(recurse=False)) or \
        any(name not in module._non_persistent_buffers_set for name, _ in module.named_buffers(recurse=False))


def execution_order(model: nn.Module, example: torch.Tensor) -> list[tuple[str, nn.Module]]:
    """The stateful leaf modules of `model` in the order a training-mode forward pass calls them.
    The model's buffers, mode and the random number generator are left as they were."""
    names = {m: n for n, m in model.named_modules() if _stateful(m)}
    order: list[tuple[str, nn.Module]] = []
    seen: set[nn.Module] = set()

    def hook(module, args):
        if module in names and module not in seen:
            seen.add(module)
            order.append((names[module], module))

    handles = [m.register_forward_pre_hook(hook) for m in names]
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
            mine, other = our.state_dict(), their.state_dict()
            shapes = {k: tuple(v.shape) for k, v in mine.items()}
            other_shapes = {k: tuple(v.shape) for k, v in other.items()}
            if shapes != other_shapes:
                raise WeightMismatch(
                    f"`{our_name}` {shapes} does not match torchvision's `{their_name}` {other_shapes}")
            our.load_state_dict(other)
    return network


def _first_difference(ours, theirs) -> str:
    for (a, m), (b, n) in zip(ours, theirs):
        if {k: v.shape for k, v in m.state_dict().items()} != {k: v.shape for k, v in n.state_dict().items()}:
            return f"; the first pair that disagrees is our `{a}` and their `{b}`"
    return ""
