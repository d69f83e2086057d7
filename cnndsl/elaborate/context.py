"""What elaboration carries from layer to layer: the graph being built, the scopes (block uses,
combinators, repetitions) a new node sits in, the names taken in each, and the limits.

Everything else travels as arguments: a function of the elaborator gets the layer expression, the
value environment, the tensor it reads and, for a conv literal, the literal itself."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from ..diagnostics import CnnDslError, error
from ..ir import Frame, Graph
from ..source import Span
from .program import Program
from .units import Units
from .values import Env, Evaluator

MAX_REPEAT = 10_000  # copies in one `*N` or one `[... for ...]`
MAX_NODES = 250_000  # nodes in one network: ResNet-1202 has about 4,000
MAX_DEPTH = 100  # nested block uses: deeper than any real network, shallow enough to stop a loop


class Names:
    """The frames a new node sits in, and the module path each block use adds to node names
    (`stage1.bottleneck1.conv1`): only block uses add a component; layers and block uses share one
    namespace per block (they become attributes of one module)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.paths: list[str] = []  # the dotted node-name prefix of each frame, kept with `frames`
        self.counters: dict[tuple[str, str], int] = {}
        self.taken: dict[str, set[str]] = {}  # the names in use under each path

    def path(self) -> str:
        return self.paths[-1] if self.paths else ""

    def unique(self, base: str) -> str:
        """The next free `base<n>` among the names of the current block, so `conv1` the layer and
        `conv1` the use of a block named `conv` cannot both exist, whatever the block names are."""
        path = self.path()
        taken = self.taken.setdefault(path, set())
        n = self.counters.get((path, base), 0)
        while True:
            n += 1
            name = f"{base}{n}" if not base[-1:].isdigit() else f"{base}_{n}"
            if name not in taken:
                break
        self.counters[(path, base)] = n
        taken.add(name)
        return name

    def node_name(self, op: str) -> str:
        path = self.path()
        name = self.unique(op)
        return f"{path}.{name}" if path else name

    @contextmanager
    def frame(self, frame: Frame) -> Iterator[None]:
        parent = self.path()
        self.frames.append(frame)
        self.paths.append(f"{parent}.{frame.name}" if parent and frame.name else parent or frame.name)
        try:
            yield
        finally:
            self.frames.pop()
            self.paths.pop()


@dataclass
class Context:
    """One network's elaboration."""

    program: Program
    ev: Evaluator
    globals: Env
    graph: Graph
    units: Units
    names: Names = field(default_factory=Names)
    body_envs: list[Env] = field(default_factory=list)  # where `... as NAME` binds, innermost last
    groups: int = 0  # repetition groups made so far

    def next_group(self) -> int:
        self.groups += 1
        return self.groups

    def frame(self, frame: Frame) -> AbstractContextManager[None]:
        return self.names.frame(frame)


def too_big(span: Span | None, details: list[str] | None = None) -> CnnDslError:
    return error(f"the network has more than {MAX_NODES} layers", span, details=details,
                 help="check the repeat counts; this limit keeps a typo from exhausting memory")
