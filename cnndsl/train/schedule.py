"""The learning-rate schedule: optional linear warmup, then a step, cosine or plateau schedule.

Warmup rises linearly from a tenth of the rate to the full rate over `--warmup` epochs, step by
step (He et al. 2016, Sec. 4.2, warm up ResNet-110 at 0.01 before 0.1; Goyal et al. 2017, Sec. 2.2,
make it gradual). Then:

* `step`: divided by 10 at 50% and 75% of the steps (He et al. 2016, Sec. 4.2);
* `cosine`: half a cosine from the rate to 0 (Loshchilov & Hutter 2017, SGDR, Eq. 5, without restarts);
* `plateau`: divided by 10 when the validation loss has not improved for `patience` epochs
  (Krizhevsky et al. 2012, Sec. 5; He et al. 2016, Sec. 3.4).

Both parts are torch's own schedulers, so their state goes into the checkpoint as it is.
"""
from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau

from .config import STEP_MILESTONES, Recipe

WARMUP_START = 0.1


def plateau_patience(epochs: int) -> int:
    """Epochs without improvement before a plateau division: a tenth of the run, 2 to 10."""
    return min(10, max(2, epochs // 10))


class Schedule:
    def __init__(self, optimizer: Optimizer, recipe: Recipe, steps_per_epoch: int) -> None:
        self.kind = recipe.schedule
        self.warm = recipe.warmup * steps_per_epoch
        self.total = recipe.epochs * steps_per_epoch
        self.milestones = [round(f * self.total) for f in STEP_MILESTONES]
        self.per_step = LambdaLR(optimizer, lambda step: self.factor(step))
        self.plateau = (ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=plateau_patience(recipe.epochs))
                        if self.kind == "plateau" else None)

    def factor(self, step: int) -> float:
        """The multiple of the base rate at optimizer step `step` (the plateau's divisions aside)."""
        warm = WARMUP_START + (1 - WARMUP_START) * step / self.warm if step < self.warm else 1.0
        if self.kind == "step":
            return warm * 0.1 ** sum(step >= m for m in self.milestones)
        if self.kind == "cosine":
            t = min(1.0, max(0.0, (step - self.warm) / max(1, self.total - self.warm)))
            return warm * 0.5 * (1 + math.cos(math.pi * t))
        return warm

    def after_step(self) -> None:
        # under `plateau` the per-step part only warms up; after that the plateau part owns the rate
        if self.plateau is None or self.per_step.last_epoch < self.warm:
            self.per_step.step()

    def after_epoch(self, val_loss: float) -> None:
        if self.plateau is not None and self.per_step.last_epoch >= self.warm:
            self.plateau.step(val_loss)

    def state_dict(self) -> dict[str, Any]:
        return {"per_step": self.per_step.state_dict(),
                "plateau": self.plateau.state_dict() if self.plateau is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.per_step.load_state_dict(state["per_step"])
        if self.plateau is not None and state.get("plateau") is not None:
            self.plateau.load_state_dict(state["plateau"])
