"""The LALR tables, the per-state lexers and the reduction callbacks' shapes as plain data, cached
on disk with `marshal`, so that parsing a valid file neither imports nor loads Lark.

Lark builds them from the grammar once (0.15 s); after that every start used to import Lark
(20 ms: it pulls the `regex` module, logging, its Earley parser, pickle) and unpickle its cache into
a `Lark` object (25 ms), only for fast.py to read the tables back out of it. Here they are read out
once, when the cache is built, into numbers, strings, lists and dicts:

* per parser state, its actions: a shift as the next state (>= 0), a reduce as `-1 - rule`;
* per rule: its size, its names, and what Lark's `ParseTreeBuilder` wraps around its callback
  (`ChildFilterLALR`'s `to_include`/`append_none`, `ExpandSingleChild`), read from the callbacks Lark
  built, so that fast.py applies exactly Lark's;
* per lexer (states with the same terminals share one): the scanner's regular expressions and
  flags, its ignored and newline terminals, its keyword tables.

A cache file is never trusted: it must be a regular file of ours in the private cache directory
(docs/security.md), begin with FORMAT's magic, carry a CRC of its body, name this grammar's exact
text and this Lark's version, and have the shape `check` asks for. `marshal` reads only data, never
code (unlike Lark's pickle). Anything else, and the tables are built again with Lark and the file
replaced atomically.
"""
from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import re
import stat
import zlib
from pathlib import Path
from typing import Any

FORMAT = 1
MAGIC = b"cnndsl-lalr-tables\x00%d\x00" % FORMAT
MAX_CACHE_BYTES = 8_000_000  # the grammar's tables take about 0.2 MB

# A rule's wrappers, outermost first, as Lark applies them to the children before its callback.
EXPAND1 = "expand1"  # `?rule` with one child: that child, no call
FILTER = "filter"  # keep, inline (`_rule`) and pad with placeholders (`[x]` absent)
METHOD, TREE = "method", "tree"  # the callback: a builder method, or a tree for `_rule`s to inline


def cache_dir() -> Path | None:
    """A directory of the user's own for caches, never the shared temp directory, where a name
    another user can predict could be planted first (docs/security.md); None where there is none."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cnndsl"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = base.stat()
        if (hasattr(os, "getuid") and info.st_uid != os.getuid()) or info.st_mode & 0o022:
            return None
    except (OSError, RuntimeError):
        return None
    return base


def lark_version() -> str | None:
    """Lark's version, read from its `__init__.py` without importing it (importlib.metadata alone
    costs 15 ms); None where it cannot be read, and then nothing is cached."""
    try:
        spec = importlib.util.find_spec("lark")
        if spec is None or not spec.origin:
            return None
        with open(spec.origin, encoding="utf-8") as f:
            found = re.search(r'^__version__\s*(?::\s*str\s*)?=\s*["\']([\w.+-]+)["\']', f.read(), re.M)
    except (OSError, ValueError, ImportError):
        return None
    return found.group(1) if found else None


def cache_path(base: Path, grammar: str, version: str) -> Path:
    # The name tells grammars apart cheaply (hashlib alone costs 4 ms to import); the file holds
    # the grammar's whole text, which `load` compares, so a collision only means a rebuild.
    data = grammar.encode()
    digest = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
    return base / f"tables-{digest}-f{FORMAT}-lark{version}.marshal"


# ---------------------------------------------------------------- reading and writing the file
def load(path: Path, grammar: str, version: str, methods: frozenset[str]) -> dict[str, Any] | None:
    """The tables in `path` if it is a sound cache of this grammar and this Lark, calling only
    `methods` of the builder; None otherwise."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CACHE_BYTES or info.st_mode & 0o022
                or (hasattr(os, "getuid") and info.st_uid != os.getuid())):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            blob = f.read(MAX_CACHE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    head = len(MAGIC) + 4
    if not blob.startswith(MAGIC) or len(blob) < head:
        return None
    if int.from_bytes(blob[len(MAGIC):head], "big") != zlib.crc32(blob[head:]):
        return None
    try:
        tables = marshal.loads(blob[head:])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(tables, dict) or tables.get("grammar") != grammar or tables.get("lark") != version:
        return None
    return tables if check(tables, methods) else None


def save(path: Path, tables: dict[str, Any]) -> None:
    """Write atomically (a temporary file in the same directory, then renamed), so a reader sees the
    old file or the new one, never half of one; a failure leaves no cache, which is only slower."""
    import tempfile

    body = marshal.dumps(tables)
    blob = MAGIC + zlib.crc32(body).to_bytes(4, "big") + body
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tables-", suffix=".tmp")  # mode 0600
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# ---------------------------------------------------------------- the shape of sound tables
def _is(value: Any, kind: type) -> bool:
    return type(value) is kind


def _strs(items: Any) -> bool:
    return _is(items, list) and all(_is(x, str) for x in items)


def check(t: dict[str, Any], methods: frozenset[str]) -> bool:
    """Whether `t` has the shape `build` gives: types, every state and rule it names exists, and
    every callback is one of `methods`.
    (A regular expression is compiled when its state is first met; fast.py treats one that does
    not compile as it treats a syntax error, by asking Lark.)"""
    try:
        states, rules, lexers = t["states"], t["rules"], t["lexers"]
        if not (_is(states, dict) and _is(rules, list) and _is(lexers, list) and states and rules and lexers):
            return False
        for state, row in states.items():
            if not (_is(state, int) and _is(row, dict)):
                return False
            for sym, arg in row.items():
                if not (_is(sym, str) and _is(arg, int)):
                    return False
                if not (arg in states if arg >= 0 else -1 - arg < len(rules)):
                    return False
        for key in ("start_states", "end_states"):
            if not (_is(t[key], dict) and all(_is(k, str) and v in states for k, v in t[key].items())):
                return False
        if not all(_rule_ok(rule, methods) for rule in rules):
            return False
        lexer_of = t["lexer_of_state"]
        if not (_is(lexer_of, dict) and set(lexer_of) == set(states)
                and all(_is(i, int) and 0 <= i < len(lexers) for i in lexer_of.values())):
            return False
        return all(_lexer_ok(lexer) for lexer in lexers)
    except (KeyError, TypeError):
        return False


def _rule_ok(rule: Any, methods: frozenset[str]) -> bool:
    if not (_is(rule, tuple) and len(rule) == 7):
        return False
    size, origin, name, inlined, single, steps, base = rule
    if not (_is(size, int) and size >= 0 and _is(origin, str) and _is(name, str)
            and _is(inlined, bool) and _is(single, bool)
            and _is(steps, tuple) and _is(base, tuple) and len(base) == 2 and base[0] in (METHOD, TREE)
            and _is(base[1], str) and (base[0] == TREE or (base[1] == name and name in methods))):
        return False
    for step in steps:
        if step == (EXPAND1,):
            continue
        if not (_is(step, tuple) and len(step) == 3 and step[0] == FILTER and _is(step[2], int) and step[2] >= 0
                and _is(step[1], tuple)):
            return False
        for entry in step[1]:
            if not (_is(entry, tuple) and len(entry) == 3 and _is(entry[0], int) and 0 <= entry[0] < size
                    and _is(entry[1], bool) and _is(entry[2], int) and entry[2] >= 0):
                return False
    return True


def _lexer_ok(lexer: Any) -> bool:
    if not (_is(lexer, tuple) and len(lexer) == 4):
        return False
    patterns, ignore, newlines, keywords = lexer
    return (_is(patterns, list) and patterns
            and all(_is(p, tuple) and len(p) == 2 and _is(p[0], str) and _is(p[1], int) for p in patterns)
            and _strs(ignore) and _strs(newlines) and _is(keywords, dict)
            and all(_is(k, str) and _is(v, dict) and all(_is(a, str) and _is(b, str) for a, b in v.items())
                    for k, v in keywords.items()))


# ---------------------------------------------------------------- reading them out of Lark
def build(lark: Any, builder: object, grammar: str) -> dict[str, Any]:
    """The tables of a `Lark` object made with `transformer=builder` (parser/__init__.py `_parser`).
    Refuses (TypeError) what fast.py would not run exactly as Lark does."""
    from lark import __version__ as version

    frontend = lark.parser
    lalr = frontend.parser.parser
    if lark.options.regex or frontend.lexer_conf.use_bytes or any(isinstance(k, str) for k in lalr.callbacks):
        raise TypeError("the `regex` module, bytes and callbacks on terminals are not supported")
    lexer_of_state, lexers = _lexers(frontend.lexer.lexer)
    return {"grammar": grammar, "lark": version, **_parse_table(lalr),
            "rules": [_rule(r, lalr.callbacks[r], builder) for r in lalr.callbacks],
            "lexer_of_state": lexer_of_state, "lexers": lexers}


def same_as_lark(lark: Any, t: dict[str, Any]) -> bool:
    """Whether `lark`'s parse table is `t`'s, state numbers included: Lark numbers states in an
    order that can change from one run to the next where it builds them anew, so tables cached by
    one run and a Lark pickle written by another may differ (then an error is found by Lark's
    own loop). Each rule's wrappers need no comparing: the same grammar gives the same ones."""
    lalr = lark.parser.parser.parser
    names = [(len(r.expansion), str(r.origin.name), str(r.alias or r.origin.name)) for r in lalr.callbacks]
    if names != [rule[:3] for rule in t["rules"]]:
        return False
    table = _parse_table(lalr)
    return all(table[key] == t[key] for key in table)


def _parse_table(lalr: Any) -> dict[str, Any]:
    """States, reductions numbered by their rule's place among the callbacks, and start states."""
    from lark.parsers.lalr_analysis import Shift

    number = {rule: i for i, rule in enumerate(lalr.callbacks)}
    table = lalr.parse_table
    # str(): a grammar Lark has just built names things with its Tokens, which marshal refuses
    states = {state: {str(sym): arg if action is Shift else -1 - number[arg] for sym, (action, arg) in row.items()}
              for state, row in table.states.items()}
    return {"states": states, "start_states": {str(k): v for k, v in table.start_states.items()},
            "end_states": {str(k): v for k, v in table.end_states.items()}}


def _rule(rule: Any, callback: Any, builder: object) -> tuple:
    """(size, origin, name, inlined, single, wrappers outermost first, callback), walking the
    wrappers Lark's `ParseTreeBuilder` put around the callback. `origin` is the rule's symbol (the
    goto after a reduction), `name` its alias or symbol; `inlined`: a `?rule` Lark returns the only
    child of; `single`: one symbol, a rule's that is not inlined (`_rule`)."""
    from functools import partial

    from lark import Tree
    from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders, ExpandSingleChild

    steps: list[tuple] = []
    f = callback
    while True:
        if type(f) is ExpandSingleChild:
            steps.append((EXPAND1,))
        elif type(f) is ChildFilterLALR:
            steps.append((FILTER, tuple((i, bool(e), n) for i, e, n in f.to_include), f.append_none))
        elif type(f) is ChildFilterLALR_NoPlaceholders:
            steps.append((FILTER, tuple((i, bool(e), 0) for i, e in f.to_include), 0))
        else:
            break
        f = f.node_builder
    name = str(rule.alias or rule.options.template_source or rule.origin.name)  # what Lark looks up
    if getattr(f, "__self__", None) is builder and getattr(builder, name, None) == f:
        base = (METHOD, name)
    elif isinstance(f, partial) and f.func is Tree and len(f.args) == 1 and not f.keywords:
        base = (TREE, str(f.args[0]))
    else:
        raise TypeError(f"rule {rule}: a callback fast.py does not know ({f!r})")
    size = len(rule.expansion)
    single = size == 1 and not rule.expansion[0].is_term and not rule.expansion[0].name.startswith("_")
    inlined = bool(rule.options.expand1 and not rule.alias)
    return (size, str(rule.origin.name), name, inlined, single, tuple(steps), base)


def _lexers(contextual: Any) -> tuple[dict[int, int], list[tuple]]:
    """Each state's lexer, states with the same terminals sharing one (Lark shares the object)."""
    from lark.lexer import PatternStr, UnlessCallback

    index: dict[int, int] = {}
    lexers: list[tuple] = []
    lexer_of_state = {}
    for state, basic in contextual.lexers.items():
        if id(basic) not in index:
            scanner = basic.scanner  # builds `basic.callback` too
            if scanner.use_bytes or scanner.re_ is not re:
                raise TypeError("a scanner of bytes, or of another regular expression module, is not supported")
            keywords = {}
            for type_, cb in basic.callback.items():
                terms = cb.scanner.terminals if isinstance(cb, UnlessCallback) else None
                if not terms or not all(isinstance(t.pattern, PatternStr) and not t.pattern.flags for t in terms):
                    raise TypeError(f"terminal {type_}: a lexer callback that is not a keyword table ({cb!r})")
                keywords[str(type_)] = {str(t.pattern.value): str(t.name) for t in terms}
            index[id(basic)] = len(lexers)
            patterns = [(str(m.pattern), m.flags) for m in scanner._mres]
            lexers.append((patterns, sorted(map(str, basic.ignore_types)), sorted(map(str, basic.newline_types)),
                           keywords))
        lexer_of_state[state] = index[id(basic)]
    return lexer_of_state, lexers
