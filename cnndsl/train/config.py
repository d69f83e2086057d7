"""What a training run is asked for (`TrainConfig`) and the recipe it resolves to (`Recipe`).

No torch here: the CLI builds a `TrainConfig` from its arguments before any handler imports torch.
Every recipe option is `None` until resolved, so that `--resume` can tell "not given" (take the
run's saved value) from "given" (must equal it), and so that the dataset-dependent defaults
(epochs, batch size, learning rate) are computed in one place. docs/training.md gives the source
of each default.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..diagnostics import CnnDslError

SCHEDULES = ("step", "cosine", "plateau")

# He et al. 2016 ("Deep Residual Learning"), Sec. 3.4 and 4.2: SGD, momentum 0.9, weight decay
# 1e-4, learning rate divided by 10 at 50% and 75% of training (32k and 48k of 64k iterations).
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
STEP_MILESTONES = (0.5, 0.75)
# The learning rate scales linearly with the batch (Goyal et al. 2017, "Accurate, Large Minibatch
# SGD", Sec. 2.1): with batch norm from He et al.'s 0.1 for 256 images (Sec. 3.4); without it from
# Krizhevsky et al. 2012's 0.01 for 128 (Sec. 5), since batch norm is what allows the higher rate
# (Ioffe & Szegedy 2015, Sec. 3.3).
BN_LR, BN_BATCH = 0.1, 256
PLAIN_LR, PLAIN_BATCH = 0.01, 128
MIN_STEPS_PER_EPOCH = 32  # below this a small dataset gets smaller batches (docs/training.md)


@dataclass
class TrainConfig:
    """A training run as asked for: `None` means "the recipe's default" (or, with `resume`, the
    run's saved value). Mirrors `cnndsl train`'s options one to one."""

    arch: str
    data: str
    params: dict[str, Any] = field(default_factory=dict)
    input: tuple[int, ...] | None = None
    network: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None
    schedule: str | None = None
    warmup: int | None = None
    label_smoothing: float | None = None
    flip: bool | None = None
    seed: int | None = None
    amp: bool = False
    device: str | None = None
    channels_last: bool | None = None
    out: str | None = None
    resume: bool = False
    workers: int = 0
    threads: int | None = None
    progress: bool | None = None
    command: list[str] | None = None  # the command line that asked for the run, saved with it

    def check(self) -> None:
        """Reject impossible values before anything is loaded, in the CLI's words."""
        if not Path(self.arch).is_file():
            raise CnnDslError.from_message(f"{self.arch}: no such file")
        _at_least(self.epochs, 1, "--epochs")
        _at_least(self.batch_size, 1, "--batch-size")
        _at_least(self.warmup, 0, "--warmup")
        _at_least(self.seed, 0, "--seed")
        _at_least(self.workers, 0, "--workers")
        _at_least(self.threads, 1, "--threads")
        for value, name in ((self.lr, "--lr"), (self.momentum, "--momentum"), (self.weight_decay, "--weight-decay")):
            if value is not None and not value >= 0:
                raise CnnDslError.from_message(f"{name} must be >= 0, got {value}")
        if self.label_smoothing is not None and not 0 <= self.label_smoothing < 1:
            raise CnnDslError.from_message(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise CnnDslError.from_message(f"--schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.device is not None and self.device.split(":")[0] not in ("cpu", "cuda"):
            raise CnnDslError.from_message(f"--device must be cpu or cuda, got {self.device!r}")
        if self.resume and not self.out:
            raise CnnDslError.from_message("--resume needs --out DIR: the run folder to continue")


def _at_least(value: int | None, lo: int, name: str) -> None:
    if value is not None and value < lo:
        raise CnnDslError.from_message(f"{name} must be >= {lo}, got {value}")


@dataclass(frozen=True)
class Recipe:
    """The resolved training recipe: every value concrete. Saved in each checkpoint; a resumed
    run takes it from there (`merge_resumed`)."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    schedule: str
    warmup: int
    label_smoothing: float
    flip: bool
    seed: int
    amp: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_batch_size(n_train: int, side: int) -> int:
    """256 for ImageNet-sized inputs (He et al. 2016, Sec. 3.4), 128 for small ones (Sec. 4.2),
    halved until an epoch has at least MIN_STEPS_PER_EPOCH steps, so that a small dataset still
    sees enough updates."""
    batch = 256 if side > 64 else 128
    while batch > 8 and n_train // batch < MIN_STEPS_PER_EPOCH:
        batch //= 2
    return batch


def default_epochs(n_train: int) -> int:
    """182 epochs for CIFAR-sized sets (He et al.'s 64k iterations of 128 images on 45k images),
    90 for ImageNet-sized ones (Goyal et al. 2017, Sec. 5.1), 30 for small sets such as digits."""
    if n_train >= 200_000:
        return 90
    if n_train >= 10_000:
        return 182
    return 30


def default_lr(batch: int, batch_norm: bool) -> float:
    return BN_LR * batch / BN_BATCH if batch_norm else PLAIN_LR * batch / PLAIN_BATCH


def resolve(config: TrainConfig, *, n_train: int, side: int, flip_default: bool, world_size: int,
            batch_norm: bool) -> Recipe:
    """Fill in every default. The batch size is the global one (all processes together)."""
    batch = config.batch_size or default_batch_size(n_train, side)
    if batch % world_size:
        raise CnnDslError.from_message(
            f"--batch-size {batch} is the global batch and must divide evenly among the {world_size} "
            f"processes; pass a multiple of {world_size}")
    if n_train < batch:
        raise CnnDslError.from_message(
            f"the training set has {n_train} images, fewer than one batch of {batch}; pass a smaller --batch-size")
    return Recipe(
        epochs=config.epochs or default_epochs(n_train), batch_size=batch,
        lr=config.lr if config.lr is not None else default_lr(batch, batch_norm),
        momentum=_or(config.momentum, MOMENTUM), weight_decay=_or(config.weight_decay, WEIGHT_DECAY),
        schedule=config.schedule or "step", warmup=_or(config.warmup, 0),
        label_smoothing=_or(config.label_smoothing, 0.0), flip=_or(config.flip, flip_default),
        seed=_or(config.seed, 0), amp=config.amp)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def merge_resumed(config: TrainConfig, saved: dict[str, Any], checkpoint: str) -> TrainConfig:
    """With --resume, an option not given takes the run's saved value; one given must equal it,
    since a resumed run continues the same recipe (that is what makes it equal an uninterrupted one)."""
    merged = TrainConfig(**{f.name: getattr(config, f.name) for f in fields(config)})
    for name, value in saved.items():
        given = getattr(merged, name, None)
        if name == "amp":
            given = given or None
        if given is None:
            setattr(merged, name, value)
        elif given != value:
            option = "--" + name.replace("_", "-")
            raise CnnDslError.from_message(
                f"{option} {given} differs from {value}, the value the run in {checkpoint} was trained with; "
                f"--resume continues that run as it was set up (leave {option} out, or start a new run "
                f"with another --out)")
    return merged
