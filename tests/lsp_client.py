"""A language-server client for tests and bench/lsp.py: it starts `cnndsl lsp` as a subprocess and
speaks LSP to it over stdio with pygls's client (real JSON-RPC messages, nothing called directly)."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parents[1]
# The server under a wrapper that reports at exit whether torch was ever imported.
SERVER = ("import atexit, runpy, sys\n"
          "atexit.register(lambda: sys.stderr.write('torch imported: %s\\n' % ('torch' in sys.modules)))\n"
          "sys.argv = ['cnndsl', 'lsp']\n"
          "runpy.run_module('cnndsl', run_name='__main__')\n")


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("cnndsl-test", "0")
        self.published: dict[str, tuple[int | None, list[t.Diagnostic]]] = {}
        self.changed = asyncio.Condition()

        @self.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def on_diagnostics(params: t.PublishDiagnosticsParams) -> None:
            async with self.changed:
                # a file's diagnostics republished because another document reached it carry no
                # version: they are still for the newest version the file had
                old = self.published.get(params.uri, (None, ()))[0]
                version = params.version if params.version is not None else old
                self.published[params.uri] = (version, params.diagnostics)
                self.changed.notify_all()

        @self.feature(t.WINDOW_LOG_MESSAGE)
        def on_log(params: t.LogMessageParams) -> None:
            pass

    async def start(self) -> None:
        await self.start_io(sys.executable, "-c", SERVER, cwd=str(ROOT))
        await self.initialize_async(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=from_fs_path(str(ROOT))))
        self.initialized(t.InitializedParams())

    async def finish(self) -> str:
        """Shut the server down; its standard error."""
        await self.shutdown_async(None)
        self.exit(None)
        server = self._server
        await asyncio.wait_for(server.wait(), 30)
        err = (await server.stderr.read()).decode()
        await self.stop()
        return err

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = from_fs_path(str(path))
        self.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
            uri, "cnndsl", version, path.read_text() if text is None else text)))
        return uri

    def edit(self, uri: str, text: str, version: int) -> None:
        self.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [t.TextDocumentContentChangeWholeDocument(text=text)]))

    async def diagnostics(self, uri: str, version: int | None = None, timeout: float = 30) -> list[t.Diagnostic]:
        """The diagnostics published for `uri` (for its `version` or a later one)."""
        def ready() -> bool:
            got = self.published.get(uri)
            return got is not None and (version is None or (got[0] is not None and got[0] >= version))
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(ready), timeout)
            return self.published[uri][1]

    async def hover(self, uri: str, line: int, character: int) -> Any:
        return await self.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri),
                                                                  t.Position(line, character)))
