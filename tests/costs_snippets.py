"""`.arch` snippets shared by the cost-model tests."""

# Small networks that between them use every op of the table: dense (concat with the input) and
# inception (concat) merges, residual adds with identity and zero-padding shortcuts, mean, max/avg
# pooling (ceil mode, stride 1), adaptive pooling to a size that divides and one that does not,
# global pooling, LRN, dropout (p>0 and p=0), tanh/sigmoid, grouped and dilated convs, conv and fc
# with and without bias, BN before and after convs.
MIX = """
unit = conv -> relu
block dl(k) = dense<bn -> relu -> conv1x1:(4*k) bias=false -> bn -> relu -> conv3x3:k bias=false>
network mix : 3x40x40 {
  conv5x5:16/2 -> bn -> relu -> lrn(5, alpha=0.0001, beta=0.75, k=2.0) -> maxpool3x3/2 ceil
  -> dl(8) -> dl(8)
  -> conv1x1:16 -> avgpool2x2/2
  -> inception(1x1:8 | 3x3:8 <- 1x1:4 | conv3x3:8 d=2 -> tanh | 1x1:8 <- maxpool3x3)
  -> residual<3x3:32/2 -> conv3x3:32 -> sigmoid> shortcut=pad
  -> residual<3x3:32 -> conv3x3:32 groups=4>
  -> mean(identity | 1x1:32)
  -> adaptive_avgpool(2) -> dropout(0.3) -> flatten -> fc:20 bias=false -> relu -> dropout(0.0) -> fc:10
}
"""

# SqueezeNet-like: fire modules (squeeze, then two expand branches concatenated), ceil max pooling,
# a conv classifier, global pooling; and an adaptive pool that divides its input.
FIRE = """
unit = conv -> relu
block fire(s, e) = 1x1:s -> (1x1:e | 3x3:e)
network firenet : 3x64x64 =
  conv7x7:24/2 p=0 -> relu -> maxpool3x3/2 ceil -> fire(8, 16) -> fire(8, 16) -> maxpool3x3/2 ceil
  -> fire(16, 32) -> dropout -> conv1x1:10 -> relu -> adaptive_avgpool(2) -> gap -> flatten
"""

# The 2017-2022 vocabulary (issue 9): a MobileNetV3-like inverted residual with a squeeze-and-
# excitation gate (torchvision's SqueezeExcitation: relu inside, hardsigmoid as the gate), hardswish,
# relu6, silu and a per-vector gate through `fc`; a ShuffleNetV2-like unit (chunk, a branch on one
# half, concat, shuffle; split); a ConvNeXt-like block (depthwise 7x7, LayerNorm2d, 1x1 up, gelu,
# 1x1 down, layer scale) and a LayerNorm on a vector; leaky_relu.
MODERN = """
include "std.arch"
unit = conv(bias=false) -> bn -> hardswish
block bneck(c, e, s=1) = residual<1x1:e -> 3x3:e/s groups=e -> se(e/4, gate=hardsigmoid) -> conv1x1:c -> bn>
block shuffle_unit(c) =
  (chunk(2, 0) | chunk(2, 1) -> 1x1:(c/2) -> conv3x3:(c/2) groups=(c/2) -> bn -> relu6) -> shuffle(2)
block cn(c) = residual<conv7x7:c groups=c bias=true -> ln(1e-6) -> conv1x1:(4*c) bias=true -> gelu
                       -> conv1x1:c bias=true -> layer_scale(0.5)>
network modern : 3x32x32 =
  3x3:16/2 -> bneck(16, 32) -> bneck(24, 48, s=2) -> shuffle_unit(24) -> split(4, 16)
  -> conv1x1:32 bias=true -> cn(32) -> leaky_relu(0.1) -> silu
  -> mul(identity | gap -> fc:32 -> sigmoid) -> gap -> flatten -> ln -> fc:10
"""

# The new ops where receptive fields are exact and measurable: no broadcast gate (a gated map's
# every position sees the gate's whole field), no LayerNorm (over channels that the measurement's
# constant weights make equal, its output is constant and passes no gradient).
MODERN_RF = """
block shuffle_unit(c) =
  (chunk(2, 0) | chunk(2, 1) -> conv1x1:(c/2) -> conv3x3:(c/2) groups=(c/2) -> relu6) -> shuffle(2)
network modern_rf : 3x96x96 =
  conv3x3:8/2 -> hardswish -> shuffle_unit(8) -> mul(identity | conv3x3:8 -> hardsigmoid) -> maxpool3x3/2
  -> shuffle_unit(8) -> split(2, 4) -> conv5x5:8 -> gelu -> silu -> layer_scale(0.5) -> leaky_relu(0.1)
"""
