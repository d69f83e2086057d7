"""What elaboration carries from layer to layer: the graph being built, the scopes (block uses,
combinators, repetitions) a new node sits in, the names taken in each, and the limits.

Everything else travels as arguments: a function of the elaborator gets the layer expression, the
value environment, the tensor it reads and, for a conv literal, the literal itself."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..diagnostics import CnnDslError, error
from ..ir import Frame, Graph
from ..source import Span
from .program import Program
from .sizes import LeastSizes
from .units import Units
from .values import Env, Evaluator

if TYPE_CHECKING:
    from .replay import Template

MAX_REPEAT = 10_000  # copies in one `*N` or one `[... for ...]`
MAX_NODES = 250_000  # layers made by one check, all its networks together: ResNet-1202 has about 4,800
# Each layer times the frames (block uses, combinators, repetitions) it sits in, for the same check.
# A layer keeps them (its scope) and its name grows with them, so this, not the layers alone, is
# what a deep file costs: 240,000 layers 90 uses deep took 870 MB. The zoo's largest: ResNet-1202,
# 20,396 (4,208 layers, 5 deep at most); EfficientNet-B7, 8,513 (864 layers, 12 deep).
MAX_NESTED = 1_000_000
# The characters of the layers' names (module paths such as `stage1.bottleneck2.conv1`), for the same
# check: each holds the names of the uses around it, so 10,000 layers 95 uses of a block named with
# 900 characters deep took 900 MB. ResNet-1202's names: about 100,000 characters.
MAX_NAME_CHARS = 20_000_000
MAX_DEPTH = 100  # nested block uses: deeper than any real network, shallow enough to stop a loop
SHOWN_USES = 6  # block uses named in a message about the chain of uses: the outermost and innermost


class Layers:
    """Layers made so far, against MAX_NODES. One count serves a whole check (every network of a
    file), so a file of many networks cannot multiply the limit; each layer is counted when it is
    made, so the limit stops the work when it is passed, not after."""

    def __init__(self) -> None:
        self.made = 0
        self.kept = 0  # layers kept for copying (replay.MAX_KEPT)
        self.nested = 0  # each layer made times the frames it sits in (MAX_NESTED)
        self.name_chars = 0  # the characters of their names (MAX_NAME_CHARS)


class Names:
    """The frames a new node sits in, and the module path each block use adds to node names
    (`stage1.bottleneck1.conv1`): only block uses add a component; layers and block uses share one
    namespace per block (they become attributes of one module)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.blocks: list[Frame] = []  # the block frames among `frames`, outermost first
        # the namespace of each frame, innermost last: a frame that adds no path component shares
        # its parent's; a block use's is dropped when it returns (no name is made there again)
        self.spaces: list[_Space] = [_Space("")]
        self._scope: tuple[Frame, ...] | None = ()  # `frames` as the tuple nodes keep; None: stale

    def path(self) -> str:
        return self.spaces[-1].path

    def scope(self) -> tuple[Frame, ...]:
        """The frames as a tuple, one object shared by every node made between two frame changes
        (a 100,000-layer chain keeps one tuple, not 100,000)."""
        if self._scope is None:
            self._scope = tuple(self.frames)
        return self._scope

    def unique(self, base: str) -> str:
        """The next free `base<n>` among the names of the current block, so `conv1` the layer and
        `conv1` the use of a block named `conv` cannot both exist, whatever the block names are."""
        return self.spaces[-1].unique(base)

    def node_name(self, op: str) -> str:
        space = self.spaces[-1]
        name = space.unique(op)
        return f"{space.path}.{name}" if space.path else name

    def push(self, frame: Frame) -> None:
        self.frames.append(frame)
        space = self.spaces[-1]
        if frame.name:
            space = _Space(f"{space.path}.{frame.name}" if space.path else frame.name)
        self.spaces.append(space)
        if frame.kind == "block":
            self.blocks.append(frame)
        self._scope = None

    def pop(self) -> None:
        if self.frames.pop().kind == "block":
            self.blocks.pop()
        self.spaces.pop()
        self._scope = None


class _Space:
    """The names taken under one module path, and the last number given to each base name."""

    __slots__ = ("path", "taken", "counters")

    def __init__(self, path: str) -> None:
        self.path = path
        self.taken: set[str] = set()
        self.counters: dict[str, int] = {}

    def unique(self, base: str) -> str:
        n = self.counters.get(base, 0)
        sep = "_" if base[-1:].isdigit() else ""
        while True:
            n += 1
            name = f"{base}{sep}{n}"
            if name not in self.taken:
                break
        self.counters[base] = n
        self.taken.add(name)
        return name


class _InFrame:
    """`with ctx.frame(f):` without a generator per frame (a context manager class is cheaper)."""

    __slots__ = ("names", "frame")

    def __init__(self, names: Names, frame: Frame) -> None:
        self.names, self.frame = names, frame

    def __enter__(self) -> None:
        self.names.push(self.frame)

    def __exit__(self, *exc: object) -> None:
        self.names.pop()


@dataclass
class Context:
    """One network's elaboration."""

    program: Program
    ev: Evaluator
    globals: Env
    graph: Graph
    units: Units
    least_sizes: LeastSizes  # what parameterless blocks make at least (sizes.py), shared by the check
    layers: Layers = field(default_factory=Layers)
    names: Names = field(default_factory=Names)
    body_envs: list[Env] = field(default_factory=list)  # where `... as NAME` binds, innermost last
    groups: int = 0  # repetition groups made so far
    # layers a block use made, by (block, its arguments, its input shape): a second equal use makes
    # as many, so a use that would pass MAX_NODES is refused before it is built (blocks.call_block)
    use_sizes: dict[Any, int] = field(default_factory=dict)
    templates: dict[Any, Template] = field(default_factory=dict)  # the first use of each key, to copy (replay.py)
    _made_at_start: int = 0  # layers of the check made before this network
    # what a layer whose text is constant validated to, by its text and file (nodes.op_layer)
    constant_layers: dict[tuple[Any, ...], tuple[Any, Any]] = field(default_factory=dict)
    # an op's completed attributes and shape, by the id of its attributes and its input shapes
    completed: dict[tuple[Any, ...], tuple[Any, Any, tuple[int, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._made_at_start = self.layers.made

    def next_group(self) -> int:
        self.groups += 1
        return self.groups

    def frame(self, frame: Frame) -> _InFrame:
        return _InFrame(self.names, frame)

    def check_room(self, label: str, size: int, exact: bool, span: Span) -> None:
        """Refuse `label` before it is built if the `size` layers it makes (or at least makes, when
        not `exact`) would pass MAX_NODES."""
        made = self.layers.made
        if made + size > MAX_NODES:
            says = f"makes more than {MAX_NODES:,}" if size > MAX_NODES else \
                f"makes {'' if exact else 'at least '}{size:,}"
            here = made - self._made_at_start  # the layers other networks made are said apart
            before = f", and {here:,} are made before it" if here else ""
            raise too_big(span, [f"`{label}` {says} layers{before}", *self.made_before(), *self.uses()])

    def count_layer(self, span: Span | None) -> None:
        """One more layer made; past MAX_NODES, refused where it was written."""
        self.layers.made += 1
        if self.layers.made > MAX_NODES:
            raise too_big(span, [*self.made_before(), *self.uses()])

    def count_where(self, frames: int, chars: int, span: Span | None) -> None:
        """What layers keep of where they are: the frames they sit in and the characters of their
        names, all together (one layer, or a copy's); past MAX_NESTED or MAX_NAME_CHARS, refused."""
        layers = self.layers
        layers.nested += frames
        layers.name_chars += chars
        if layers.nested > MAX_NESTED:
            raise error(f"too many layers nested this deep: the block uses, combinators and repetitions "
                        f"around each layer, added up over the layers, pass {MAX_NESTED:,}", span, details=self.uses(),
                        help="each layer keeps the uses it sits in: many layers nested deep exhaust memory; "
                             "this limit keeps a hostile file from doing that")
        if layers.name_chars > MAX_NAME_CHARS:
            raise error(f"the layers' names add up to more than {MAX_NAME_CHARS:,} characters", span,
                        details=self.uses(), help="a layer's name holds the names of the block uses around it: "
                                                  "long block names nested deep make long names")

    def made_before(self) -> list[str]:
        """When other networks of the file made part of the layers, say how many."""
        others = self._made_at_start
        return [f"{others:,} of them in the networks checked before `{self.graph.name}`"] if others > 0 else []

    def uses(self) -> list[str]:
        """The chain of block uses that leads here, outermost first (its middle left out when long)."""
        return [f"made through {uses_chain(self.names.blocks)}"] if self.names.blocks else []


def uses_chain(frames: list[Frame]) -> str:
    labels = [f"`{f.label}`" for f in frames]
    if len(labels) > 2 * SHOWN_USES:
        hidden = len(labels) - 2 * SHOWN_USES
        labels = labels[:SHOWN_USES] + [f"... ({hidden} more)"] + labels[-SHOWN_USES:]
    return " > ".join(labels)


def too_big(span: Span | None, details: list[str] | None = None) -> CnnDslError:
    return error(f"the network has more than {MAX_NODES} layers", span, details=list(details or []),
                 help="check the repeat counts and the block uses; this limit keeps a typo from exhausting memory")
