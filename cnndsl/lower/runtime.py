"""The few modules that `torch.nn` lacks.

The Python-source lowering copies the source of each one a network uses into the file it writes,
so each class here is small, needs only `torch`, `nn` and `List`, and works under every PyTorch
client: eager, `torch.jit.script`, `torch.fx.symbolic_trace`, `torch.export`, `torch.compile`
(no Python branch on tensor data, so no graph break) and ONNX. Random draws go through
`torch.rand` on the input's device, so seeds and devices behave as for `nn.Dropout`.
"""

import torch
from torch import nn


class Sum(nn.Module):
    """The element-wise sum of three or more inputs (two are written `a + b`)."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mean(nn.Module):
    """The element-wise mean of the inputs."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(xs, 0).mean(0)


class PadShortcut(nn.Module):
    """He et al. 2015, option A: subsample by the stride, pad the new channels with zeros."""

    def __init__(self, stride: int, pad: int):
        super().__init__()
        self.stride, self.pad = stride, pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return nn.functional.pad(x, [0, 0, 0, 0, self.pad, self.pad])


class DropPath(nn.Module):
    """Stochastic depth. Training: keep the input with probability `survive`, once per mini-batch
    (mode "batch", as in Huang et al. 2016) or per sample ("row"), else zeros. `scale` says where
    the expectation is kept: "eval" (the paper) multiplies by `survive` at evaluation, so the full
    network runs; "train" (torchvision's StochasticDepth, with its very draws) divides a kept input
    by `survive` in training and passes the input on at evaluation. `rank` is the number of
    dimensions of one sample (3 for a CxHxW map)."""

    shape: list[int]

    def __init__(self, survive: float, mode: str = "batch", rank: int = 3, scale: str = "eval"):
        super().__init__()
        self.survive, self.mode, self.rank, self.scale_at_eval = survive, mode, rank, scale == "eval"
        self.shape = [-1] + [1] * rank if mode == "row" else [1] * 0  # how one draw broadcasts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x * self.survive if self.scale_at_eval else x
        if not self.scale_at_eval:  # torchvision.ops.stochastic_depth, draw for draw
            size = [x.shape[0] if self.mode == "row" else 1] + [1] * self.rank
            noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(self.survive)
            return x * noise.div_(self.survive)
        draws = x.shape[:1] if self.mode == "row" else x.shape[:0]
        keep = torch.rand(draws, device=x.device) < self.survive
        return x * keep.to(x.dtype).view(self.shape)

    def extra_repr(self) -> str:
        return f"survive={self.survive:.4g}, mode={self.mode}, scale={'eval' if self.scale_at_eval else 'train'}"


class Join(nn.Module):
    """FractalNet's join (Larsson et al. 2017): the element-wise mean of the inputs. Training with
    local drop-path drops each input with probability `drop` (once per mini-batch), keeps at least
    one (a random one when every draw drops), and averages those kept. `rank` is the number of
    dimensions of one sample."""

    shape: list[int]

    def __init__(self, drop: float = 0.0, rank: int = 3):
        super().__init__()
        self.drop = drop
        self.shape = [-1] + [1] * (rank + 1)  # one weight per input, over the batch and the sample

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        x = torch.stack(xs, 0)
        if not self.training or self.drop == 0.0:
            return x.mean(0)
        n = len(xs)
        keep = torch.rand(n, device=x.device) >= self.drop
        forced = nn.functional.one_hot(torch.randint(n, (1,), device=x.device), n)[0].to(torch.bool)
        keep = keep | (forced & ~keep.any())  # a tensor expression, not a branch on data
        weight = keep.to(x.dtype)
        return (x * weight.view(self.shape)).sum(0) / weight.sum()


class Select(nn.Module):
    """The listed channels, in order (LeNet-5's partial connection table). The index is made where
    the input is, not kept as a buffer: it is structure, and `to_empty` would wipe a buffer."""

    def __init__(self, channels: list[int]):
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, torch.tensor(self.channels, device=x.device))


class Affine(nn.Module):
    """A trainable scale and bias per channel (LeNet-5's subsampling units)."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight[:, None, None] + self.bias[:, None, None]


class RBF(nn.Module):
    """LeNet-5's output units: y_i = sum_j (x_j - w_ij)^2, a squared distance to fixed prototypes
    (the paper draws them as +-1 bitmaps; a buffer, not trained). Lower is a better match."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.register_buffer("centers", torch.randint(0, 2, (out_features, in_features)).float() * 2 - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x[:, None, :] - self.centers[None]) ** 2).sum(-1)


class Gate(nn.Module):
    """A feature map times a per-channel gate given as a vector (`mul` of a CxHxW map and a C
    vector); input number `gate` is the vector. A Cx1x1 gate needs no module: `x * g`."""

    def __init__(self, gate: int):
        super().__init__()
        self.gate = gate

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        g = xs[self.gate]
        return xs[1 - self.gate] * g.view(g.size(0), g.size(1), 1, 1)


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle, as torchvision's `channel_shuffle`: view the channels as
    groups x C/groups, transpose, copy, view back (sizes read with `size(i)`, which torch.fx traces)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w = x.size(0), x.size(2), x.size(3)
        x = x.view(n, self.groups, -1, h, w)
        return torch.transpose(x, 1, 2).contiguous().view(n, -1, h, w)


class LayerNorm2d(nn.LayerNorm):
    """Layer normalisation over the channels of each position of an NCHW map (torchvision's
    ConvNeXt `LayerNorm2d`: the same parameters, so its weights load as they are)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """A learned scale per channel (ConvNeXt's layer scale; torchvision keeps it as the C x 1 x 1
    parameter `CNBlock.layer_scale`, whose name this one shares)."""

    def __init__(self, channels: int, init: float = 1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * x


HELPERS = {cls.__name__: cls for cls in (Sum, Mean, PadShortcut, DropPath, Join, Select, Affine, RBF, Gate,
                                         ChannelShuffle, LayerNorm2d, LayerScale)}
