"""The language server's answers, as lsprotocol types, from an `Analysis` and the `Symbols`:
diagnostics, hover, inlay hints, definitions, completions and document symbols."""
from __future__ import annotations

from collections.abc import Sequence

from collections.abc import Iterable
from pathlib import Path

from lsprotocol import types as t
from pygls.uris import from_fs_path

from ... import ast
from ...diagnostics import Diagnostic
from ...ir import Graph, Node
from ...source import Span
from .analysis import Analysis, Use, real_path, rf_text, shape_text
from .symbols import (
    Symbols,
    call_before,
    enclosing_block,
    local_names,
    signature,
    word_at,
)

MAX_ROWS = 6  # distinct uses shown in a hover


def uri_of(file: str) -> str:
    return from_fs_path(str(real_path(file).resolve()))


def lsp_range(span: Span | None) -> t.Range:
    if span is None:
        return t.Range(t.Position(0, 0), t.Position(0, 1))
    return t.Range(t.Position(span.line - 1, span.column - 1), t.Position(span.end_line - 1, span.end_column - 1))


def location(span: Span) -> t.Location:
    return t.Location(uri_of(span.file), lsp_range(span))


def to_lsp(d: Diagnostic) -> t.Diagnostic:
    message = "\n".join([d.message, *d.details] + ([f"help: {d.help}"] if d.help else []))
    related = [t.DiagnosticRelatedInformation(location(n.span), n.message) for n in d.notes if n.span]
    unplaced = [f"note: {n.message}" for n in d.notes if not n.span]
    severity = t.DiagnosticSeverity.Warning if d.severity == "warning" else t.DiagnosticSeverity.Error
    return t.Diagnostic(lsp_range(d.span), "\n".join([message, *unplaced]), severity=severity, source="cnndsl",
                        related_information=related or None)


def by_file(diagnostics: Iterable[Diagnostic], root: str) -> dict[str, list[t.Diagnostic]]:
    """LSP diagnostics per file URI; one without a place goes to the top of the root file."""
    out: dict[str, list[t.Diagnostic]] = {}
    for d in diagnostics:
        out.setdefault(uri_of(d.span.file) if d.span else root, []).append(to_lsp(d))
    return out


# ------------------------------------------------------------------ hover
def _unit_uses(found: list[tuple[Node, Graph]]) -> list[list[Node]]:
    """The nodes of one written layer grouped by use (a unit `3x3:64` makes conv, BN and ReLU)."""
    groups: dict[tuple, list[Node]] = {}
    for node, graph in found:
        groups.setdefault((id(graph), node.scope), []).append(node)
    return list(groups.values())


def _label(node: Node) -> str:
    try:
        return node.opdef.label(node.attrs)
    except (KeyError, AttributeError, TypeError):  # the op table is others' to change
        return node.op or node.kind


def _row(nodes: list[Node]) -> tuple[str, str, str, str]:
    last = nodes[-1]
    params = sum(n.meta.get("params", 0) for n in nodes)
    macs = sum(n.meta.get("macs", 0) for n in nodes)
    return shape_text(last.meta.get("shape", ())), f"{params:,}", f"{macs:,}", rf_text(last) or "-"


def _table(rows: Sequence[tuple[str, ...]], head: tuple[str, ...]) -> list[str]:
    distinct = list(dict.fromkeys(rows))
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in distinct[:MAX_ROWS]]
    if len(distinct) > MAX_ROWS:
        out.append(f"\n... and {len(distinct) - MAX_ROWS} more")
    return out


def layer_hover(found: list[tuple[Node, Graph]]) -> str:
    uses = _unit_uses(found)
    first = uses[0]
    title = " -> ".join(dict.fromkeys(_label(n) for n in first))
    where = f"{len(uses)} uses" if len(uses) > 1 else "1 use"
    lines = [f"**{title}** ({where})", ""]
    lines += _table([_row(nodes) for nodes in uses], ("output", "params", "MACs", "receptive field"))
    return "\n".join(lines)


def use_hover(uses: list[Use]) -> str:
    frame = uses[0].frame
    rows = []
    for use in uses:
        graph, nodes = use.graph, use.nodes
        assert graph is not None
        entry = graph[nodes[0].inputs[0]] if nodes and nodes[0].inputs else None
        shape_in = shape_text(entry.meta.get("shape", ())) if entry is not None else "?"
        ops = [n for n in nodes if n.kind == "op"]
        rows.append((frame.label if len(uses) == 1 else use.frame.label, shape_in,
                     shape_text(nodes[-1].meta.get("shape", ())), str(len(ops)),
                     f"{sum(n.meta.get('params', 0) for n in ops):,}", f"{sum(n.meta.get('macs', 0) for n in ops):,}"))
    name = frame.label.split("(")[0]
    defined = f", defined at line {frame.defined.line} of {Path(frame.defined.file).name}" if frame.defined else ""
    head = f"**{frame.label}**: block `{name}`{defined}" if len(uses) == 1 else \
        f"**block `{name}`**, used here {len(uses)} times{defined}"
    return "\n".join([head, ""] + _table(rows, ("use", "in", "out", "layers", "params", "MACs")))


def hover(analyses: list[Analysis], files: list[str], line: int, column: int) -> t.Hover | None:
    """Hover at 1-based (line, column) of a file known to the analyses by the names `files`."""
    for analysis in analyses:
        for file in files:
            layers = analysis.layers_at(file, line, column)
            uses = analysis.uses_at(file, line, column)
            span_layers = layers[0][0].span if layers else None
            if uses and (not layers or _inside(uses[0].frame.use, span_layers)):
                return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, use_hover(uses)), lsp_range(uses[0].frame.use))
            if layers:
                return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, layer_hover(layers)), lsp_range(span_layers))
    return None


def _inside(inner: Span, outer: Span | None) -> bool:
    if outer is None:
        return True
    return (outer.line, outer.column) <= (inner.line, inner.column) and \
        (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


# ------------------------------------------------------------------ inlay hints
def inlay_hints(analyses: list[Analysis], files: list[str], lines: list[str], first: int, last: int) -> list[t.InlayHint]:
    """`-> 64x56x56` at the end of each line (0-based, first..last) that ends a piece of chain."""
    for analysis in analyses:
        shapes: dict[int, list[tuple[int, ...]]] = {}
        for file in files:
            shapes.update(analysis.line_shapes(file))
        if not shapes:
            continue
        hints = []
        for lineno, found in sorted(shapes.items()):
            if first <= lineno - 1 <= last and lineno - 1 < len(lines):
                text = " | ".join(shape_text(s) for s in found[:3]) + (" | ..." if len(found) > 3 else "")
                end = len(lines[lineno - 1].split("#")[0].rstrip())
                hints.append(t.InlayHint(t.Position(lineno - 1, end), f"-> {text}", kind=t.InlayHintKind.Type,
                                         padding_left=True))
        return hints
    return []


# ------------------------------------------------------------------ definitions, symbols, completion
def definition(symbols: Symbols, lines: list[str], line: int, column: int) -> t.Location | None:
    """Where the name at the 0-based position is defined: an include's file, a tensor named with
    `as`, a parameter or `let` of the enclosing block, a block, a file-level `let`."""
    for include, target in symbols.includes:
        if include.span.line == line + 1 and target is not None:
            return t.Location(from_fs_path(str(target.resolve())), t.Range(t.Position(0, 0), t.Position(0, 0)))
    word = word_at(lines[line], column) if line < len(lines) else None
    if word is None:
        return None
    block = enclosing_block(symbols.module, line + 1)
    if block is not None:
        local = local_names(block).get(word)
        if local is not None:
            return location(local)
    if word in symbols.blocks:
        path, defined = symbols.blocks[word]
        return t.Location(from_fs_path(str(path.resolve())), lsp_range(defined.span))
    if word in symbols.defs:
        path, fn = symbols.defs[word]
        return t.Location(from_fs_path(str(path.resolve())), lsp_range(fn.span))
    if word in symbols.lets:
        return location(symbols.lets[word].span)
    return None


def document_symbols(module: ast.Module) -> list[t.DocumentSymbol]:
    out = []
    for item in module.items:
        if isinstance(item, ast.BlockDef):
            children = [t.DocumentSymbol(name, t.SymbolKind.Variable, lsp_range(span), lsp_range(span))
                        for name, span in local_names(item).items()]
            kind = t.SymbolKind.Class if item.is_network else t.SymbolKind.Function
            out.append(t.DocumentSymbol(item.name, kind, lsp_range(item.span), lsp_range(item.span),
                                        detail=signature(item), children=children))
        elif isinstance(item, ast.Let):
            out.append(t.DocumentSymbol(item.name, t.SymbolKind.Constant, lsp_range(item.span), lsp_range(item.span)))
        elif isinstance(item, ast.FuncDef):
            params = [t.DocumentSymbol(p.name, t.SymbolKind.Variable, lsp_range(p.span), lsp_range(p.span))
                      for p in item.params]
            out.append(t.DocumentSymbol(item.name, t.SymbolKind.Function, lsp_range(item.span), lsp_range(item.span),
                                        detail=signature(item), children=params))
        elif isinstance(item, ast.Include):
            out.append(t.DocumentSymbol(item.path, t.SymbolKind.File, lsp_range(item.span), lsp_range(item.span)))
    return out


def completions(symbols: Symbols, text: str, line: int, column: int, ops: dict[str, list[str]],
                words: Iterable[str]) -> list[t.CompletionItem]:
    """Inside `name(...)`: the parameters of that block or op; elsewhere ops, blocks, the names of
    the enclosing block, and the language's words."""
    call = call_before(text, line, column)
    if call is not None:
        params = _params_of(symbols, call, ops)
        if params is not None:
            return [t.CompletionItem(f"{p}=", kind=t.CompletionItemKind.Property, detail=f"{call} parameter")
                    for p in params]
    items = [t.CompletionItem(name, kind=t.CompletionItemKind.Function, detail="op " + ", ".join(attrs))
             for name, attrs in ops.items()]
    items += [t.CompletionItem(name, kind=t.CompletionItemKind.Class, detail=signature(block))
              for name, (_, block) in symbols.blocks.items()]
    block = enclosing_block(symbols.module, line + 1)
    if block is not None:
        items += [t.CompletionItem(name, kind=t.CompletionItemKind.Variable) for name in local_names(block)]
    items += [t.CompletionItem(name, kind=t.CompletionItemKind.Constant) for name in symbols.lets]
    items += [t.CompletionItem(name, kind=t.CompletionItemKind.Function, detail=signature(fn))
              for name, (_, fn) in symbols.defs.items()]
    items += [t.CompletionItem(word, kind=t.CompletionItemKind.Keyword) for word in sorted(words)]
    return items


def _params_of(symbols: Symbols, name: str, ops: dict[str, list[str]]) -> list[str] | None:
    if name in symbols.blocks:
        return [p.name for p in symbols.blocks[name][1].params]
    if name in symbols.defs:
        return [p.name for p in symbols.defs[name][1].params]
    return ops.get(name)
