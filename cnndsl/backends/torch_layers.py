"""The few PyTorch modules that `torch.nn` lacks. Each is small and self-contained, because the
Python-source backend copies their source into the files it writes."""
import torch
from torch import nn


class Concat(nn.Module):
    """Concatenate on channels (dim 1), as inception modules and dense blocks do."""

    def forward(self, *xs):
        return torch.cat(xs, 1)


class Add(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mean(nn.Module):
    """Element-wise mean of the inputs (FractalNet's join)."""

    def forward(self, *xs):
        return torch.stack(xs, 0).mean(0)


class PadShortcut(nn.Module):
    """He et al. 2015 option A: subsample by the stride and pad new channels with zeros."""

    def __init__(self, stride: int, pad: int):
        super().__init__()
        self.stride, self.pad = stride, pad

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, self.pad, self.pad))
