"""`cnndsl eval`: top-1/top-5 accuracy, loss and confusion matrix of checkpoints on a validation set,
and of their ensemble: the average of the members' softmax outputs (the lecture's model ensembles;
Krizhevsky et al. 2012, Sec. 6, average the predictions of several CNNs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..diagnostics import CnnDslError
from . import checkpoint
from .datasets import Source, open_data
from .distributed import pick_device
from .loader import Images
from .network import split_outputs


@dataclass
class Scores:
    name: str
    top1: float
    top5: float | None  # None with fewer than 5 classes
    loss: float  # mean negative log-likelihood of the true class
    confusion: np.ndarray = field(repr=False)  # rows: true class, columns: predicted

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "top1": self.top1, "top5": self.top5, "loss": self.loss,
                "confusion": self.confusion.tolist()}


@dataclass
class Evaluation:
    data: str
    classes: list[str]
    images: int
    members: list[Scores]
    ensemble: Scores | None  # with two or more checkpoints

    def as_dict(self) -> dict[str, Any]:
        return {"data": self.data, "classes": self.classes, "images": self.images,
                "members": [m.as_dict() for m in self.members],
                "ensemble": self.ensemble.as_dict() if self.ensemble else None}


def evaluate(arch: str | Path, checkpoints: list[str | Path], *, data: str | None = None,
             params: dict[str, Any] | None = None, input: tuple[int, ...] | None = None,
             network: str | None = None, device: str | None = None, batch_size: int = 256,
             workers: int = 0) -> Evaluation:
    """Score each checkpoint (each must be of `arch`) on the validation split of `data` (default:
    the data the first checkpoint was trained on)."""
    if not checkpoints:
        raise CnnDslError.from_message("eval needs at least one checkpoint")
    states = [checkpoint.read(c) for c in checkpoints]
    data = data or states[0]["data"]
    source = open_data(data)
    dev = pick_device(device, 0)
    members, probs, labels = [], [], source.val.labels
    for path, state in zip(checkpoints, states):
        p = _predict(arch, Path(path), state, source, dict(params or {}), input, network, dev, batch_size, workers)
        probs.append(p)
        members.append(score(str(path), p, labels))
    ensemble = score(f"ensemble of {len(probs)}", np.mean(probs, axis=0), labels) if len(probs) > 1 else None
    return Evaluation(data, list(source.classes), len(source.val), members, ensemble)


def _predict(arch: str | Path, path: Path, state: dict[str, Any], source: Source, params: dict[str, Any],
             input: tuple[int, ...] | None, network: str | None, dev: torch.device, batch_size: int,
             workers: int) -> np.ndarray:
    """Softmax probabilities of one checkpoint on every validation image, in order."""
    net = checkpoint.build_for(state, path, str(arch), params, input=input, network=network,
                               num_classes=len(source.classes))
    net.module.load_state_dict(state["model"])
    model = net.module.to(dev).eval()
    mean, std = (torch.tensor(v, dtype=torch.float32)[:, None, None] for v in state["normalisation"])
    images = Images(source, source.val, net.input_shape, train=False, stats=(mean, std))
    loader = torch.utils.data.DataLoader(images, batch_size=batch_size, num_workers=workers)
    out = []
    with torch.no_grad():
        for x, _ in loader:
            logits, _ = split_outputs(model(x.to(dev)), net)
            out.append(torch.softmax(logits.double(), 1).cpu())
    return torch.cat(out).numpy()


def score(name: str, probs: np.ndarray, labels: np.ndarray) -> Scores:
    k = probs.shape[1]
    order = np.argsort(-probs, axis=1, kind="stable")
    top1 = float(np.mean(order[:, 0] == labels))
    top5 = float(np.mean((order[:, :5] == labels[:, None]).any(axis=1))) if k >= 5 else None
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))))
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, order[:, 0]), 1)
    return Scores(name, top1, top5, loss, confusion)


def format_table(result: Evaluation) -> str:
    rows = result.members + ([result.ensemble] if result.ensemble else [])
    width = max(len("checkpoint"), *(len(r.name) for r in rows))
    lines = [f"{result.images} validation images of {result.data}, {len(result.classes)} classes",
             f"{'checkpoint':<{width}}  {'top-1':>7}  {'top-5':>7}  {'loss':>7}"]
    for r in rows:
        top5 = f"{r.top5:7.4f}" if r.top5 is not None else f"{'-':>7}"
        lines.append(f"{r.name:<{width}}  {r.top1:7.4f}  {top5}  {r.loss:7.4f}")
    return "\n".join(lines)
