"""Training and evaluation of compiled networks (`cnndsl train`, `cnndsl eval`).

`fit` and `evaluate` import torch when called, not when this package is imported, so that the CLI
can register its commands without it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import TrainConfig


def fit(arch: str | Path, *, data: str, params: dict[str, Any] | None = None, **options: Any) -> Any:
    """Train `arch` on `data` (`digits`, a CIFAR folder or an ImageFolder directory) and return a
    `TrainResult` (model, network, history, out); `options` mirror `cnndsl train`'s, e.g.
    `fit("archs/lenet5.arch", data="digits", epochs=10, out="runs/lenet5")`."""
    from .loop import fit as _fit
    return _fit(arch, data=data, params=params, **options)


def evaluate(arch: str | Path, checkpoints: list[str | Path], **options: Any) -> Any:
    """Top-1/top-5 accuracy and confusion matrix of each checkpoint and, for several, of their
    ensemble (averaged softmax); see `cnndsl.train.scoring.evaluate`."""
    from .scoring import evaluate as _evaluate
    return _evaluate(arch, checkpoints, **options)


__all__ = ["TrainConfig", "evaluate", "fit"]
