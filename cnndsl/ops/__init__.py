"""The op table: every layer type the language knows, by name."""
from __future__ import annotations

import re

from . import channels, conv, elementwise, merge, paths, pool
from .base import Attrs, Lowering, OpDef, OpError, Shape, fmt, numel

OPS: dict[str, OpDef] = {op.name: op for mod in (conv, pool, elementwise, merge, paths, channels) for op in mod.OPS}
ALIASES = {"linear": "fc", "batchnorm": "bn", "global_avgpool": "gap", "id": "identity"}

_KERNEL_NAME = re.compile(r"^([a-z_]+?)(\d+)x(\d+)$")


def lookup(name: str) -> tuple[OpDef, tuple[int, int] | None] | None:
    """`conv3x3` -> (conv, (3, 3)); `relu` -> (relu, None); unknown -> None."""
    name = ALIASES.get(name, name)
    if name in OPS:
        return OPS[name], None
    m = _KERNEL_NAME.match(name)
    if m and m.group(1) in OPS and OPS[m.group(1)].kernel_sugar:
        return OPS[m.group(1)], (int(m.group(2)), int(m.group(3)))
    return None


__all__ = ["OPS", "ALIASES", "lookup", "OpDef", "OpError", "Attrs", "Lowering", "Shape", "fmt", "numel"]
