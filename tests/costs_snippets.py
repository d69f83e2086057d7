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
