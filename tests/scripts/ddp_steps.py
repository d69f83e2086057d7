"""A few SGD steps of a compiled zoo network on one fixed global batch, with
DistributedDataParallel when started by torchrun (each rank takes its share of the batch) and
plainly otherwise; the final parameters are saved to argv[1] (by rank 0)."""
import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import cnndsl

STEPS, BATCH = 4, 8


def main(out: str, arch: str) -> None:
    torch.set_num_threads(1)
    distributed = "LOCAL_RANK" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    torch.manual_seed(0)  # the same weights and batch in every process
    # float64: the comparison sees what DDP computes, not float32's summation order (half-batch
    # means averaged over ranks round differently from one mean over the batch)
    torch.set_default_dtype(torch.float64)
    model = cnndsl.load(arch)
    x = torch.randn(BATCH, *model.input_shape)
    target = torch.randn(BATCH, *model(x[:1]).shape[1:])
    share = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    net = DistributedDataParallel(model) if distributed else model
    optimiser = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = (net(x[share]) - target[share]).square().mean()  # DDP averages the ranks' gradients
        loss.backward()
        optimiser.step()
    if rank == 0:
        torch.save(model.state_dict(), out)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
