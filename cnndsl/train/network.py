"""The network to train, through `cnndsl.load`'s public contract, and how its outputs become logits.

* One output: the logits. Several (GoogLeNet with `aux=true`): the first is the classifier, the
  others auxiliary classifiers, added to the training loss with weight 0.3 (Szegedy et al. 2015,
  Sec. 5) and ignored in evaluation.
* LeNet-5's RBF output is a squared distance, lower for a better match; its negation is the logit.
  Cross-entropy on those logits is LeCun et al. 1998's discriminative criterion (Eq. 9) without
  its rubbish-class constant j.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

import cnndsl

from ..diagnostics import CnnDslError

AUX_WEIGHT = 0.3


@dataclass
class Network:
    module: nn.Module
    name: str
    arch: str
    params: dict[str, Any]
    input_shape: tuple[int, int, int]
    num_classes: int
    negate: bool  # the output is a distance (RBF): logits are its negation
    aux: int  # how many further outputs are auxiliary classifiers
    macs: int  # multiply-accumulates of one forward pass of one image

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"network `{self.name}` of {self.arch}" + (f" ({args})" if args else "")

    def identity(self) -> dict[str, Any]:
        """What a checkpoint records to be recognised: names, and every tensor's name and shape."""
        return {"network": self.name, "arch": self.arch, "params": json.dumps(self.params, sort_keys=True),
                "input_shape": list(self.input_shape), "num_classes": self.num_classes,
                "tensors": fingerprint(self.module)}


def fingerprint(module: nn.Module) -> list[list[Any]]:
    return [[key, list(value.shape)] for key, value in module.state_dict().items()]


def build(arch: str, params: dict[str, Any], *, input: tuple[int, ...] | None = None,
          network: str | None = None, num_classes: int | None = None) -> Network:
    """Compile `arch`. If the dataset has `num_classes` classes and the network has a `num_classes`
    parameter the caller left unset, set it; otherwise the output width must match."""
    path = str(arch)
    if not Path(path).is_file():
        raise CnnDslError.from_message(f"{path}: no such file")
    graph = cnndsl.analyze(path, input=input, network=network, **params)
    params = dict(params)
    width = _width(graph, 0)
    if num_classes is not None and width != num_classes and "num_classes" in graph.params \
            and "num_classes" not in params:
        params["num_classes"] = num_classes
        graph = cnndsl.analyze(path, input=input, network=network, **params)
        width = _width(graph, 0)
    if num_classes is not None and width != num_classes:
        raise CnnDslError.from_message(
            f"{path}: network `{graph.name}` ends in {width} outputs but the data has {num_classes} classes"
            + ("; pass -D num_classes=" + str(num_classes) if "num_classes" in graph.params else ""))
    if len(graph[graph.inputs[0]].shape) != 3:
        raise CnnDslError.from_message(f"{path}: network `{graph.name}` takes a {graph[graph.inputs[0]].shape} "
                                       "input; training needs an image input CxHxW")
    aux = [i for i in range(1, len(graph.outputs)) if _width(graph, i) == width]
    if len(aux) != len(graph.outputs) - 1:
        raise CnnDslError.from_message(f"{path}: network `{graph.name}` has outputs of other widths than "
                                       f"its classifier ({width}); training knows classifiers only")
    # analyze() validated the call; load() compiles the same network (its public contract)
    module = cnndsl.load(path, input=input, network=network, **params)
    last = graph[graph[graph.outputs[0]].inputs[0]]
    return Network(module, graph.name, path, {**graph.params, **params}, tuple(module.input_shape), width,
                   negate=last.op == "rbf", aux=len(aux), macs=sum(n.meta["macs"] for n in graph.ops()))


def _width(graph: Any, index: int) -> int:
    shape = graph[graph.outputs[index]].shape
    if len(shape) != 1:
        raise CnnDslError.from_message(f"network `{graph.name}`: output {index + 1} has shape {shape}; "
                                       "a classifier ends in one vector of class scores")
    return shape[0]


def split_outputs(out: Any, net: Network) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The classifier's logits and the auxiliary classifiers' logits."""
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if net.negate:
        outs[0] = -outs[0]
    return outs[0], outs[1:]


def loss_of(out: Any, target: torch.Tensor, net: Network, criterion: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The training loss (main plus weighted auxiliary classifiers) and the main logits."""
    logits, aux = split_outputs(out, net)
    loss = criterion(logits, target)
    for extra in aux:
        loss = loss + AUX_WEIGHT * criterion(extra, target)
    return loss, logits
