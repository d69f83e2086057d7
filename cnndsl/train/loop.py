"""`fit`: train a compiled network with the lecture's recipe, in one process or as one of torchrun's.

Rank 0 logs and writes (metrics.csv, curves.png, checkpoints, run.json, the `.arch` text); every
rank computes. A run folder's `last.pt` is rewritten after every epoch, so `--resume` restarts the
interrupted epoch from the state the uninterrupted run had at that point: on CPU the two end
bit-identical.
"""
from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..diagnostics import CnnDslError
from . import checkpoint, distributed
from .config import Recipe, TrainConfig, merge_resumed, resolve
from .datasets import Source, open_data
from .distributed import Context
from .loader import Images, train_loader, val_loader
from .network import Network, build, loss_of, split_outputs
from .records import write_curves, write_metrics, write_run_files
from .schedule import Schedule


@dataclass
class TrainResult:
    model: nn.Module  # the trained network (not the DDP wrapper), on the device it trained on
    network: Network
    history: list[dict[str, Any]]  # the rows of metrics.csv
    out: Path  # the run folder


@dataclass
class Run:
    """Everything one epoch needs."""

    ctx: Context
    net: Network
    model: nn.Module
    ddp: nn.Module
    recipe: Recipe
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    scaler: torch.amp.GradScaler
    channels_last: bool
    progress: bool


def fit(arch: str | Path, *, data: str, params: dict[str, Any] | None = None, **options: Any) -> TrainResult:
    """Train `arch` on `data`, e.g. `fit("archs/lenet5.arch", data="digits", out="runs/lenet5")`.
    `params` are the network's parameters (the CLI's -D); `options` are `TrainConfig`'s fields, which
    mirror `cnndsl train`'s options (epochs, batch_size, lr, schedule, resume, ...)."""
    return run(TrainConfig(arch=str(arch), data=data, params=dict(params or {}), **options))


def run(config: TrainConfig) -> TrainResult:
    config.check()
    threads = torch.get_num_threads()
    ctx = distributed.start(config.device)
    try:
        return _train(config, ctx)
    finally:
        distributed.stop(ctx)
        torch.set_num_threads(threads)


def _train(config: TrainConfig, ctx: Context) -> TrainResult:
    out = distributed.share(_run_folder(config) if ctx.main else Path(), ctx)
    saved = checkpoint.read(out / checkpoint.LAST) if config.resume else None
    if saved is not None:
        config = merge_resumed(config, saved["recipe"], str(out / checkpoint.LAST))
    source = open_data(config.data)
    torch.manual_seed(0 if config.seed is None else config.seed)  # the initial weights
    net = _network(config, source, saved, out)
    recipe = resolve(config, n_train=len(source.train), side=max(net.input_shape[1:]), flip_default=source.flip,
                     world_size=ctx.world_size, batch_norm=distributed.has_batch_norm(net.module))
    train = Images(source, source.train, net.input_shape, train=True, flip=recipe.flip, seed=recipe.seed)
    val = Images(source, source.val, net.input_shape, train=False, stats=train.stats)
    train_dl, val_dl = _loaders(train, val, recipe, ctx, config.workers)
    torch.set_num_threads(config.threads or _threads(net, recipe, ctx))
    run = _setup(config, ctx, net, recipe, len(train_dl))
    start, history, best = _restore(run, saved) if saved is not None else (0, [], -1.0)
    if ctx.main:
        write_run_files(out, config.arch, _run_info(config, net, source, recipe, ctx, run.channels_last))
        _say(_announce(net, source, recipe, ctx, out, start if saved is not None else None))
    try:
        for epoch in range(start, recipe.epochs):
            history.append(_epoch(run, epoch, train, train_dl, val_dl))
            if ctx.main:
                _say(_summary(history[-1], recipe.epochs))
                best = _save(run, out, config, source, train.stats, history, best)
    finally:
        if ctx.main and history:
            write_curves(out / "curves.png", history, f"{net.name} on {source.name}")
    return TrainResult(run.model, net, history, out)


def _network(config: TrainConfig, source: Source, saved: dict[str, Any] | None, out: Path) -> Network:
    """The file's network; when resuming, built with the run's parameters and checked to be its."""
    if saved is None:
        return build(config.arch, config.params, input=config.input, network=config.network,
                     num_classes=len(source.classes))
    return checkpoint.build_for(saved, out / checkpoint.LAST, config.arch, config.params, input=config.input,
                                network=config.network, num_classes=len(source.classes))


def _loaders(train: Images, val: Images, recipe: Recipe, ctx: Context, workers: int) -> tuple[Any, Any]:
    pin = ctx.device.type == "cuda"
    return (train_loader(train, recipe.batch_size, rank=ctx.rank, world_size=ctx.world_size, seed=recipe.seed,
                         workers=workers, pin=pin),
            val_loader(val, max(256, recipe.batch_size // ctx.world_size), rank=ctx.rank,
                       world_size=ctx.world_size, workers=workers, pin=pin))


def _announce(net: Network, source: Source, recipe: Recipe, ctx: Context, out: Path, resumed: int | None) -> str:
    return (f"training {net.describe()} on {source.name} ({len(source.train)} train, {len(source.val)} val "
            f"images) for {recipe.epochs} epoch{'s' * (recipe.epochs != 1)} on {ctx.world_size} x "
            f"{ctx.device.type}; writing {out}" + (f"; resuming after epoch {resumed}" if resumed is not None else ""))


def _run_folder(config: TrainConfig) -> Path:
    """--out, or runs/<file name>, numbered -2, -3, ... past the folders that already hold runs."""
    if config.out:
        out = Path(config.out)
        if not config.resume and (out / checkpoint.LAST).exists():
            raise CnnDslError.from_message(
                f"{out} already holds a run ({checkpoint.LAST}); pass --resume to continue it, or another --out")
        if config.resume and not (out / checkpoint.LAST).exists():
            raise CnnDslError.from_message(f"--resume: {out} holds no {checkpoint.LAST} to continue from")
        return out
    base = Path("runs") / Path(config.arch).stem
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


SMALL_STEP_MACS = 1 << 30


def _threads(net: Network, recipe: Recipe, ctx: Context) -> int:
    """One thread when a step is small (LeNet-5: 10M MACs): splitting small convolutions costs more
    than it gains, and on a busy machine threads that wait for each other make it ten times slower.
    Otherwise torch's default (the cores), shared among the processes torchrun put on this machine."""
    if net.macs * recipe.batch_size // ctx.world_size < SMALL_STEP_MACS:
        return 1
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return max(1, (os.cpu_count() or 1) // local)


def _setup(config: TrainConfig, ctx: Context, net: Network, recipe: Recipe, steps_per_epoch: int) -> Run:
    model = net.module.to(ctx.device)
    channels_last = ctx.device.type == "cuda" if config.channels_last is None else config.channels_last
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)
    if ctx.distributed and ctx.device.type == "cpu" and distributed.has_batch_norm(model) and ctx.main:
        _say("warning: batch norm on CPU under torchrun normalises over each process's share of the batch "
             "(torch has no CPU SyncBatchNorm), so results differ from one process")
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=recipe.amp and ctx.device.type == "cuda")
    progress = config.progress if config.progress is not None else sys.stderr.isatty()
    return Run(ctx, net, model, distributed.wrap(model, ctx), recipe, optimizer,
               Schedule(optimizer, recipe, steps_per_epoch), scaler, channels_last, progress and ctx.main)


def _restore(run: Run, saved: dict[str, Any]) -> tuple[int, list[dict[str, Any]], float]:
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.schedule.load_state_dict(saved["schedule"])
    run.scaler.load_state_dict(saved["scaler"])
    checkpoint.set_rng_state(saved["rng"])  # last: nothing between here and the first epoch draws
    return saved["epoch"], list(saved["history"]), saved["best_acc"]


def _epoch(run: Run, epoch: int, train: Images, train_dl: Any, val_dl: Any) -> dict[str, Any]:
    start = time.perf_counter()
    train.set_epoch(epoch)
    train_dl.sampler.set_epoch(epoch)
    lr = run.optimizer.param_groups[0]["lr"]
    train_loss, train_acc = _train_epoch(run, train_dl, f"epoch {epoch + 1}/{run.recipe.epochs}")
    val_loss, val_acc = validate(run.model, run.net, val_dl, run.ctx, amp=run.recipe.amp,
                                 channels_last=run.channels_last)
    run.schedule.after_epoch(val_loss)
    return {"epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
            "val_acc": val_acc, "lr": lr, "seconds": time.perf_counter() - start}


def _autocast(device: torch.device, amp: bool) -> Any:
    """float16 on CUDA (with the loss scaler), bfloat16 on CPU (which needs no scaling)."""
    return torch.autocast(device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16,
                          enabled=amp)


def _train_epoch(run: Run, loader: Any, desc: str) -> tuple[float, float]:
    try:
        from tqdm import tqdm
    except ImportError:
        raise CnnDslError.from_message("cnndsl train needs tqdm (pip install 'cnndsl[train]')") from None
    run.ddp.train()
    criterion = nn.CrossEntropyLoss(label_smoothing=run.recipe.label_smoothing)
    dev = run.ctx.device
    sums = torch.zeros(3, dtype=torch.float64, device=dev)  # loss * n, correct, n; read once per epoch
    with tqdm(total=len(loader), desc=desc, leave=False, disable=not run.progress, file=sys.stderr) as bar:
        for x, y in loader:
            x, y = _to(x, dev, run.channels_last), y.to(dev, non_blocking=True)
            with _autocast(dev, run.recipe.amp):
                loss, logits = loss_of(run.ddp(x), y, run.net, criterion)
            run.optimizer.zero_grad(set_to_none=True)
            run.scaler.scale(loss).backward()
            run.scaler.step(run.optimizer)
            run.scaler.update()
            run.schedule.after_step()
            sums += torch.stack([loss.detach().double() * len(y), (logits.argmax(1) == y).sum().double(),
                                 torch.tensor(float(len(y)), dtype=torch.float64, device=dev)])
            bar.update()
    loss_sum, correct, n = distributed.all_sum(sums.tolist(), run.ctx)
    return loss_sum / n, correct / n


def _to(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def validate(model: nn.Module, net: Network, loader: Any, ctx: Context, *, amp: bool = False,
             channels_last: bool = False) -> tuple[float, float]:
    """Cross-entropy (without label smoothing) and top-1 accuracy of the classifier, over all ranks."""
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=ctx.device)
    for x, y in loader:
        x, y = _to(x, ctx.device, channels_last), y.to(ctx.device, non_blocking=True)
        with _autocast(ctx.device, amp):
            logits, _ = split_outputs(model(x), net)
        logits = logits.float()
        sums += torch.stack([F.cross_entropy(logits, y, reduction="sum").double(),
                             (logits.argmax(1) == y).sum().double(),
                             torch.tensor(float(len(y)), dtype=torch.float64, device=ctx.device)])
    loss_sum, correct, n = distributed.all_sum(sums.tolist(), ctx)
    return loss_sum / max(n, 1), correct / max(n, 1)


def _save(run: Run, out: Path, config: TrainConfig, source: Source, stats: tuple[torch.Tensor, torch.Tensor],
          history: list[dict[str, Any]], best: float) -> float:
    write_metrics(out / "metrics.csv", history)
    acc = history[-1]["val_acc"]
    state = {"identity": run.net.identity(), "recipe": run.recipe.as_dict(), "data": config.data,
             "classes": list(source.classes), "normalisation": [t.flatten().tolist() for t in stats],
             "epoch": history[-1]["epoch"], "model": run.model.state_dict(),
             "optimizer": run.optimizer.state_dict(), "schedule": run.schedule.state_dict(),
             "scaler": run.scaler.state_dict(), "rng": checkpoint.rng_state(), "history": history,
             "best_acc": max(best, acc)}
    checkpoint.save(out / checkpoint.LAST, state)
    if acc > best:
        checkpoint.save(out / checkpoint.BEST, state)
    return max(best, acc)


def _run_info(config: TrainConfig, net: Network, source: Source, recipe: Recipe, ctx: Context,
              channels_last: bool) -> dict[str, Any]:
    import cnndsl
    return {"network": net.name, "arch": config.arch, "params": net.params, "input_shape": list(net.input_shape),
            "data": config.data, "dataset": source.name, "classes": source.classes,
            "train_images": len(source.train), "val_images": len(source.val), "recipe": recipe.as_dict(),
            "device": ctx.device.type, "world_size": ctx.world_size, "channels_last": channels_last,
            "command": shlex.join(config.command) if config.command else None,
            "torch": torch.__version__, "cnndsl": cnndsl.__version__}


def _summary(row: dict[str, Any], epochs: int) -> str:
    return (f"epoch {row['epoch']}/{epochs}: train loss {row['train_loss']:.4f} acc {row['train_acc']:.4f}, "
            f"val loss {row['val_loss']:.4f} acc {row['val_acc']:.4f}, lr {row['lr']:.4g}, {row['seconds']:.1f}s")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
