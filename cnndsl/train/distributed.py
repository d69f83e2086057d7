"""Running under `torchrun`: torch's own process group, DistributedDataParallel and SyncBatchNorm,
wired from the environment torchrun sets (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, ...).

Nothing here communicates by hand: DDP all-reduces (averages) the gradients, and the epoch's
metrics are summed with `all_reduce`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..diagnostics import CnnDslError

T = TypeVar("T")


@dataclass
class Context:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0 logs and writes files; the others only compute."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(device: str | None) -> Context:
    """One process, or one of torchrun's: join its process group (NCCL on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Context(rank, local, world, dev)


def pick_device(requested: str | None, local_rank: int) -> torch.device:
    if requested is None:
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise CnnDslError.from_message(f"--device {requested}: this machine has no CUDA device "
                                           f"(torch {torch.__version__}); use --device cpu")
        return torch.device(requested if ":" in requested else f"cuda:{local_rank}")
    return torch.device("cpu")


def stop(ctx: Context) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, ctx: Context, *, unused: bool = False) -> nn.Module:
    """DDP around the model. On CUDA, batch norm becomes SyncBatchNorm, whose statistics are over
    the global batch as in one process; torch has no CPU SyncBatchNorm, so on CPU each process
    normalises over its own share of the batch (docs/training.md)."""
    if not ctx.distributed:
        return model
    if ctx.device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DistributedDataParallel(model, device_ids=[ctx.device.index], find_unused_parameters=unused)
    return DistributedDataParallel(model, find_unused_parameters=unused)


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def all_sum(values: list[float], ctx: Context) -> list[float]:
    """Sum numbers over all processes (the epoch's loss and accuracy counts)."""
    if not ctx.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def share(value: T, ctx: Context) -> T:
    """Rank 0's value on every rank (the run folder it chose)."""
    if not ctx.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()
