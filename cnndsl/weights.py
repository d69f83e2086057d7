"""Copying a torchvision model's weights into a compiled network of the same architecture.

Layers are matched in execution order: the order in which the torchvision model *runs* its
layers that hold weights or buffers (recorded with forward hooks, in training mode so that
auxiliary heads run too) against the order in which the compiled network runs its own, which is
the order of the `.arch` text. Every pair must agree on the shape of each tensor; the first that
does not is reported with both names. Registration order would not do: torchvision's GoogLeNet
registers its auxiliary heads after the last inception module but runs them in between.

A module may hold tensors of its own beside its children (ConvNeXt's `CNBlock.layer_scale`, applied
to what its `block` returns): those count as used when the module returns, after its children, and
only they are paired, not the children's. A pair may differ in shape by trailing 1s only where one
side is a linear layer on channels-last and the other the 1x1 conv that stands for it (ConvNeXt's
`nn.Linear` weight C_out x C_in against cnndsl's `conv1x1` C_out x C_in x 1 x 1): the tensor is
reshaped, as its elements are the same in the same order.
"""
from __future__ import annotations

import torch
from torch import nn


class WeightMismatch(ValueError):
    pass


def own_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """The weights and statistics a module holds itself, not through its children (persistent
    buffers only: a constant index a module keeps for itself is not a weight)."""
    state = dict(module.named_parameters(recurse=False))
    state.update((name, b) for name, b in module.named_buffers(recurse=False)
                 if name not in module._non_persistent_buffers_set)
    return state


def _stateful(module: nn.Module) -> bool:
    return bool(own_state(module))


def _leaf(module: nn.Module) -> bool:
    return not any(True for _ in module.children())


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

    # a layer is used when it is called; a container's own tensors when it returns (after its children)
    handles = [m.register_forward_pre_hook(hook) if _leaf(m) else m.register_forward_hook(lambda m, a, r: hook(m, a))
               for m in names]
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
            mine, other = own_state(our), own_state(their)
            if not _same_shapes(mine, other):
                shapes = {k: tuple(v.shape) for k, v in mine.items()}
                other_shapes = {k: tuple(v.shape) for k, v in other.items()}
                raise WeightMismatch(
                    f"`{our_name}` {shapes} does not match torchvision's `{their_name}` {other_shapes}")
            for k, tensor in mine.items():
                tensor.copy_(other[k].reshape(tensor.shape))
    return network


def _same_shapes(mine: dict[str, torch.Tensor], other: dict[str, torch.Tensor]) -> bool:
    """Equal names, and shapes equal but for trailing 1s (a 1x1 conv's weight for a linear layer's)."""
    def core(t: torch.Tensor) -> tuple[int, ...]:
        shape = tuple(t.shape)
        while len(shape) > 2 and shape[-1] == 1:
            shape = shape[:-1]
        return shape
    return mine.keys() == other.keys() and all(core(mine[k]) == core(other[k]) for k in mine)


def _first_difference(ours, theirs) -> str:
    for (a, m), (b, n) in zip(ours, theirs):
        if not _same_shapes(own_state(m), own_state(n)):
            return f"; the first pair that disagrees is our `{a}` and their `{b}`"
    return ""
