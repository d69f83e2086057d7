"""The op table: every layer type the language knows, by name."""
from __future__ import annotations

import re

from . import channels, conv, elementwise, merge, paths, pool
from .base import (
    AFTER_HOSTS,
    BEFORE_HOSTS,
    FOLDABLE_AFTER,
    FOLDABLE_BEFORE,
    OWN_COLOUR,
    TAKES_VECTOR,
    Attrs,
    Category,
    Lowering,
    OpDef,
    OpError,
    Shape,
    fmt,
    numel,
)

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


def layer_names(like: str) -> set[str]:
    """Every op name, with kernel sugar in the kernel size of `like` (`maxpol2x2` -> `maxpool2x2`)."""
    m = re.search(r"(\d+x\d+)$", like)
    suffix = m.group(1) if m else "3x3"
    return set(OPS) | set(ALIASES) | {f"{op}{suffix}" for op, d in OPS.items() if d.kernel_sugar}


__all__ = ["layer_names", "OPS", "ALIASES", "lookup", "OpDef", "OpError", "Attrs", "Lowering", "Shape", "fmt", "numel",
           "Category", "TAKES_VECTOR", "OWN_COLOUR", "FOLDABLE_AFTER", "AFTER_HOSTS", "FOLDABLE_BEFORE", "BEFORE_HOSTS"]
