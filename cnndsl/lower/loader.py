"""Running the generated source: `cnndsl.load`'s door to the same classes `--emit python` writes.

As torch.fx's GraphModule does, the source is compiled under a file name of its own and registered
with `linecache`, so `inspect.getsource` (and therefore `torch.jit.script`), tracebacks and
debuggers see it. Its module is registered in `sys.modules`, so pickling by reference works in the
process; every class also pickles as "the source, the class name and the state", so a pickled
module (`torch.save(model)`, `copy.deepcopy`, multiprocessing) rebuilds in any process that has
cnndsl, without the file the emitter would have written. The source is checked (`inert.py`) before
it runs.
"""
from __future__ import annotations

import hashlib
import linecache
import sys
import types
from typing import Any

from .inert import check_inert

PACKAGE = "cnndsl.generated"


def load_source(source: str) -> types.ModuleType:
    """The module the source defines (compiled once per distinct source in a process)."""
    key = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"{PACKAGE}.n{key}"
    if name in sys.modules:
        return sys.modules[name]
    check_inert(source)
    filename = f"<cnndsl-generated-{key}>"
    module = types.ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    # dont_inherit: this file's `from __future__ import annotations` must not turn the generated
    # annotations into strings (TorchScript reads them)
    exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - checked above
    for value in list(module.__dict__.values()):
        if isinstance(value, type) and value.__module__ == name:
            value.__reduce_ex__ = _reduce_ex  # type: ignore[method-assign,assignment]
            value._cnndsl_source = source  # type: ignore[attr-defined]
    sys.modules[name] = module
    return module


def _reduce_ex(self: Any, protocol: int) -> tuple[Any, ...]:
    return _rebuild, (type(self)._cnndsl_source, type(self).__qualname__), self.__dict__


def _rebuild(source: str, qualname: str) -> Any:
    cls = getattr(load_source(source), qualname)
    return cls.__new__(cls)


def instantiate(source: str, class_name: str) -> Any:
    return getattr(load_source(source), class_name)()
