"""Every identifier, string and comment the emitter writes, made safe.

A `.arch` file is written by a stranger, and its names and its file name end up in generated
Python. Identifiers here are always valid, never keywords, builtins or names the generated code
itself uses, and unique where they must be; text taken from the `.arch` world reaches the source
only as an escaped string literal or an escaped comment, so nothing in it can end a string, a
comment or a line.
"""
from __future__ import annotations

import builtins
import keyword
import os
import re
from pathlib import PurePath

from .helpers import helper_names

# Names the generated file uses itself (imports, helpers, `forward`'s locals and loop variable).
RESERVED = frozenset({"torch", "nn", "List", "self", "super", "x", "i", "input_shape", "output_names",
                      "forward", "training", *helper_names()}) | frozenset(dir(builtins))


def python_name(name: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """`name` as a local/parameter name: a valid identifier, not a keyword, builtin or reserved
    name (suffixed with `_`), not starting with `__` (which a class body would mangle), and not in
    `taken` (suffixed with a number)."""
    name = re.sub(r"\W", "_", name, flags=re.ASCII).lstrip("_") or "v"
    if name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED:
        name += "_"
    return _unique(name, taken)


def class_name(name: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """`aux_head` -> `AuxHead`, `resnet50` -> `Resnet50`; valid, not reserved, not in `taken`."""
    parts = [p for p in re.sub(r"\W", "_", name, flags=re.ASCII).split("_") if p]
    camel = "".join(p[0].upper() + p[1:] for p in parts) or "Block"
    if camel[0].isdigit():
        camel = "Block" + camel
    if keyword.iskeyword(camel) or camel in RESERVED or camel in ("Module", "Sequential", "Tensor"):
        camel += "_"
    return _unique(camel, taken)


def _unique(name: str, taken: set[str] | frozenset[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"


_UNSAFE = re.compile(r"[^\x20-\x7e]|\\")


def escape(text: str) -> str:
    """Printable ASCII only: every other character (newlines, carriage returns, form feeds,
    non-ASCII line separators) and the backslash become Python escapes."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii")
                       if m.group() != "\\" else "\\\\", text)


def comment(text: str) -> str:
    return "# " + escape(text)


def literal(text: str) -> str:
    """A Python string literal for `text` (`repr` never produces a newline or an unescaped quote)."""
    return repr(text)


def display_path(path: str) -> str:
    """A source path as the user gave it, never an absolute path of the machine that compiled it:
    an absolute path is shown relative to the working folder when it lies inside it, else by its
    file name alone."""
    if not PurePath(path).is_absolute():
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive
        return PurePath(path).name
    return rel if not rel.startswith("..") else PurePath(path).name
