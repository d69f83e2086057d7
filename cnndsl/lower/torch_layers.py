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


class DropPath(nn.Module):
    """Stochastic depth (Huang et al. 2016). Training: keep the input with probability `survive`,
    once per mini-batch (mode "batch", as in the paper) or per sample ("row"), else zeros.
    Evaluation: the input times `survive`, its expected value, so the full network runs."""

    def __init__(self, survive: float, mode: str = "batch"):
        super().__init__()
        self.survive, self.mode = survive, mode

    def forward(self, x):
        if not self.training:
            return x * self.survive if self.survive != 1 else x
        shape = () if self.mode == "batch" else (x.shape[0],) + (1,) * (x.dim() - 1)
        keep = (torch.rand(shape, device=x.device) < self.survive).to(x.dtype)
        return x * keep

    def extra_repr(self):
        return f"survive={self.survive:.4g}, mode={self.mode}"


class Join(nn.Module):
    """FractalNet's join (Larsson et al. 2017): the element-wise mean of the inputs. Training with
    local drop-path drops each input with probability `drop` (once per mini-batch), keeps at least
    one, and averages those kept."""

    def __init__(self, drop: float = 0.0):
        super().__init__()
        self.drop = drop

    def forward(self, *xs):
        if self.training and self.drop > 0:
            keep = torch.rand(len(xs)) >= self.drop
            if not keep.any():
                keep[torch.randint(len(xs), ())] = True
            xs = [x for x, k in zip(xs, keep.tolist()) if k]
        return torch.stack(xs, 0).mean(0)


class Select(nn.Module):
    """The listed channels, in order (LeNet-5's partial connection table)."""

    def __init__(self, channels):
        super().__init__()
        self.channels = list(channels)

    def forward(self, x):
        return x[:, self.channels]


class Affine(nn.Module):
    """A trainable scale and bias per channel (LeNet-5's subsampling units)."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return x * self.weight[:, None, None] + self.bias[:, None, None]


class RBF(nn.Module):
    """LeNet-5's output units: y_i = sum_j (x_j - w_ij)^2, a squared distance to fixed prototypes
    (the paper draws them as +-1 bitmaps; a buffer, not trained). Lower is a better match."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.register_buffer("centers", torch.randint(0, 2, (out_features, in_features)).float() * 2 - 1)

    def forward(self, x):
        return ((x[:, None, :] - self.centers[None]) ** 2).sum(-1)
