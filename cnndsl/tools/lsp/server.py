"""`cnndsl lsp`: the language server, over stdio, on pygls.

A document is checked on every change in one worker thread, so the server keeps answering: hover,
inlay hints and definitions use the last analysis that succeeded while a new one runs, and a
change that arrives during a check makes the next check start from the newest text (edits in
between are never checked on their own). Diagnostics of every checked file are published to that
file, the included ones too, merged across the open documents that reach them."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from ...diagnostics import CnnDslError
from ...source import SOURCES
from ..syntax import grammar_words
from .analysis import Analysis, analyse, real_path
from .features import (
    by_file,
    completions,
    definition,
    document_symbols,
    hover,
    inlay_hints,
)
from .symbols import Symbols, SymbolTable


class ArchServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("cnndsl", "0.1.0")
        self.versions: dict[str, int] = {}  # uri -> the newest version received
        self.latest: dict[str, Analysis] = {}
        self.good: dict[str, Analysis] = {}  # uri -> the last analysis without errors
        self.published: dict[str, dict[str, list[t.Diagnostic]]] = {}  # root uri -> file uri -> diagnostics
        # Staleness: a check of one document also reports on the files it includes; what it says of
        # a file edited since that check began is stale and is not merged into that file's list.
        self.tick = 0  # counts edits that changed a document's text
        self.changed_at: dict[str, int] = {}  # uri -> the tick of its last change
        self.started: dict[str, int] = {}  # root uri -> the tick when its latest published check began
        self.texts: dict[str, str] = {}  # uri -> the text last seen
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnndsl-check")
        self.symbol_table = SymbolTable()

    # -------------------------------------------------------------- checking
    def changed(self, uri: str, text: str, version: int) -> None:
        path = path_of(uri)
        before = self.texts.get(uri)
        if before is None and path.is_file():
            before = path.read_text(encoding="utf-8", errors="replace")  # opening: what others read
        if text != before:
            self.tick += 1
            self.changed_at[uri] = self.tick
        self.texts[uri] = text
        SOURCES.set_unsaved(path, text)  # other documents that include this one see the edit
        self.versions[uri] = version
        self._schedule(uri, path, version)
        for other, analysis in list(self.latest.items()):  # open documents that include this one
            if other != uri and other in self.versions and any(
                    real_path(f).resolve() == path.resolve() for f in analysis.files_reached):
                self._schedule(other, path_of(other), self.versions[other])

    def _schedule(self, uri: str, path: Path, version: int) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.worker, self._check, uri, path, version)
        future.add_done_callback(lambda f: self._checked(uri, f.result()) if not f.cancelled() else None)

    def _check(self, uri: str, path: Path, version: int) -> Analysis | None:
        if self.versions.get(uri) != version:
            return None  # a newer change is queued behind this one
        document = self.workspace.get_text_document(uri)
        started = self.tick  # every edit up to here is in what this check reads
        analysis = analyse(path, document.source, version)
        analysis.started = started
        return analysis

    def _checked(self, uri: str, analysis: Analysis | None) -> None:
        if analysis is None or self.versions.get(uri) != analysis.version:
            return
        self.latest[uri] = analysis
        self.started[uri] = analysis.started
        if analysis.ok:
            self.good[uri] = analysis
        self.publish(uri, by_file(analysis.diagnostics, uri), analysis.version)

    def publish(self, root: str, diagnostics: dict[str, list[t.Diagnostic]], version: int | None = None) -> None:
        before = self.published.get(root, {})
        self.published[root] = diagnostics
        for uri in set(before) | set(diagnostics) | {root}:
            merged: list[t.Diagnostic] = []
            for other, files in self.published.items():
                if other != uri and self.started.get(other, 0) < self.changed_at.get(uri, 0):
                    continue  # found by checking another document against an older text of this one
                merged += [d for d in files.get(uri, []) if d not in merged]
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                uri=uri, diagnostics=merged, version=version if uri == root else None))

    def closed(self, uri: str) -> None:
        path = path_of(uri)
        SOURCES.set_unsaved(path, None)  # others read the file on disk again: a change if it differs
        if path.is_file() and self.texts.get(uri) != path.read_text(encoding="utf-8", errors="replace"):
            self.tick += 1
            self.changed_at[uri] = self.tick
        for table in (self.versions, self.latest, self.good, self.texts, self.started):
            table.pop(uri, None)
        self.publish(uri, {})
        self.published.pop(uri, None)

    # -------------------------------------------------------------- what features read
    def analyses_for(self, uri: str) -> tuple[list[Analysis], list[str]]:
        """Analyses that reached the document (its own first), and the names its spans use."""
        path = path_of(uri).resolve()
        found, names = [], []
        own = self.good.get(uri)
        for analysis in ([own] if own else []) + [a for u, a in self.good.items() if u != uri]:
            mine = [f for f in analysis.files_reached if real_path(f).resolve() == path]
            if mine:
                found.append(analysis)
                names += [n for n in mine if n not in names]
        return found, names

    def lines(self, uri: str) -> list[str]:
        return self.workspace.get_text_document(uri).source.split("\n")

    def symbols(self, uri: str) -> Symbols | None:
        document = self.workspace.get_text_document(uri)
        return self.symbol_table.symbols(path_of(uri), document.source)


def path_of(uri: str) -> Path:
    """A document's file; an untitled document is taken to sit in the working folder."""
    path = to_fs_path(uri)
    return Path(path) if path and uri.startswith("file:") else Path.cwd() / (uri.rsplit("/", 1)[-1] + ".arch")


@lru_cache(maxsize=1)
def op_table() -> dict[str, list[str]]:
    """Op names (with kernel sizes for the ops that take them in their name) and attributes."""
    try:
        from ...ops import ALIASES, OPS
    except ImportError:
        return {}
    out: dict[str, list[str]] = {}
    for name, op in OPS.items():
        attrs = list(op.attrs.schema().names)
        out[name] = attrs
        if getattr(op, "kernel_sugar", False):
            out.update({f"{name}{k}": attrs for k in ("1x1", "3x3", "5x5", "7x7")})
    out.update({alias: out.get(target, []) for alias, target in ALIASES.items()})
    return out


def build() -> ArchServer:
    server = ArchServer()

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ArchServer, params: t.DidOpenTextDocumentParams) -> None:
        ls.changed(params.text_document.uri, params.text_document.text, params.text_document.version)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ArchServer, params: t.DidChangeTextDocumentParams) -> None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        ls.changed(document.uri, document.source, params.text_document.version)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ArchServer, params: t.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: ArchServer, params: t.HoverParams) -> t.Hover | None:
        analyses, names = ls.analyses_for(params.text_document.uri)
        return hover(analyses, names, params.position.line + 1, params.position.character + 1)

    @server.feature(t.TEXT_DOCUMENT_INLAY_HINT)
    def on_inlay(ls: ArchServer, params: t.InlayHintParams) -> list[t.InlayHint]:
        analyses, names = ls.analyses_for(params.text_document.uri)
        return inlay_hints(analyses, names, ls.lines(params.text_document.uri), params.range.start.line,
                           params.range.end.line)

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: ArchServer, params: t.DefinitionParams) -> t.Location | None:
        symbols = ls.symbols(params.text_document.uri)
        if symbols is None:
            return None
        return definition(symbols, ls.lines(params.text_document.uri), params.position.line,
                          params.position.character)

    @server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["(", ","]))
    def on_completion(ls: ArchServer, params: t.CompletionParams) -> t.CompletionList:
        symbols = ls.symbols(params.text_document.uri)
        if symbols is None:
            return t.CompletionList(is_incomplete=False, items=[])
        text = ls.workspace.get_text_document(params.text_document.uri).source
        items = completions(symbols, text, params.position.line, params.position.character, op_table(), grammar_words())
        return t.CompletionList(is_incomplete=False, items=items)

    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(ls: ArchServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
        symbols = ls.symbols(params.text_document.uri)
        return document_symbols(symbols.module) if symbols else []

    @server.feature(t.TEXT_DOCUMENT_FORMATTING)
    def on_format(ls: ArchServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
        from ..layout import format_text
        document = ls.workspace.get_text_document(params.text_document.uri)
        try:
            new = format_text(document.source, str(path_of(document.uri)))
        except CnnDslError:
            return None  # the diagnostics already say why
        end = t.Position(len(document.lines), 0)
        return [] if new == document.source else [t.TextEdit(t.Range(t.Position(0, 0), end), new)]

    return server


def serve() -> None:
    build().start_io()
