"""`cnndsl lsp`, driven over stdio by a real LSP client (tests/lsp_client.py): every message goes
through JSON-RPC to the server subprocess."""
from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as t
from pygls.uris import from_fs_path, to_fs_path

from lsp_client import ROOT, Client

ARCHS = ROOT / "archs"
STD = ROOT / "cnndsl" / "stdlib"


def session(body) -> str:
    """Run `body(client)` against a fresh server; the server's standard error."""
    async def run() -> str:
        client = Client()
        await client.start()
        try:
            await asyncio.wait_for(body(client), 120)
        finally:
            err = await client.finish()
        return err
    return asyncio.run(run())


def test_diagnostics_as_you_type_with_related_locations(tmp_path):
    path = tmp_path / "net.arch"
    good = "block b(c) = 3x3:c -> relu\nnetwork n : 3x32x32 = b(16) -> gap -> fc:10\n"
    path.write_text(good)

    async def body(client: Client) -> None:
        uri = client.open(path)
        assert await client.diagnostics(uri, 1) == ()
        client.edit(uri, good + "block b(c) = relu\n", 2)  # unsaved: the server checks the buffer
        found, = await client.diagnostics(uri, 2)
        assert "defined twice" in found.message and found.range.start == t.Position(2, 0)
        related, = found.related_information
        assert related.location.uri == uri and related.location.range.start.line == 0
        client.edit(uri, good.replace("fc:10", "fc:10 -> maxpool3x3/2"), 3)
        found, = await client.diagnostics(uri, 3)
        assert found.range.start.line == 1 and found.severity == t.DiagnosticSeverity.Error
        client.edit(uri, good, 4)
        assert await client.diagnostics(uri, 4) == ()
    err = session(body)
    assert "torch imported: False" in err


def test_errors_in_an_included_file_go_to_that_file(tmp_path):
    lib = tmp_path / "lib.arch"
    lib.write_text("block b(c) = 3x3:c -> rleu\n")  # a name error only a use of the block finds
    main = tmp_path / "main.arch"
    main.write_text('include "lib.arch"\nnetwork n : 3x8x8 = b(4)\n')

    async def body(client: Client) -> None:
        uri = client.open(main)
        await client.diagnostics(uri, 1)
        found, = await client.diagnostics(from_fs_path(str(lib)))
        assert "rleu" in found.message and "did you mean `relu`" in found.message
        opened = client.open(lib)  # opening the library itself keeps the error found through main.arch
        await client.diagnostics(opened, 1)
        found, = client.published[opened][1]
        assert "rleu" in found.message
        client.edit(opened, "block b(c) = 3x3:c -> (\n", 2)  # its own syntax errors come from itself
        found = await client.diagnostics(opened, 2)
        assert any("never closed" in d.message for d in found)
        client.edit(opened, "block b(c) = 3x3:c -> relu\n", 3)  # fixed, unsaved: main.arch is checked again
        assert await client.diagnostics(opened, 3) == ()
        await asyncio.sleep(0.5)
        assert client.published[uri][1] == () and client.published[opened][1] == ()
    session(body)


def test_hover_on_a_layer_and_on_a_block_use():
    async def body(client: Client) -> None:
        resnet = client.open(ARCHS / "resnet.arch")
        await client.diagnostics(resnet, 1)
        lines = (ARCHS / "resnet.arch").read_text().splitlines()
        row = next(i for i, line in enumerate(lines) if line.strip().startswith("7x7:64/2"))
        layer = await client.hover(resnet, row, lines[row].index("7x7") + 1)
        text = layer.contents.value
        assert "conv 7x7/2, 64" in text and "64x112x112" in text and "9,536" in text and "118,013,952" in text
        assert "7x7, stride 2x2" in text  # the receptive field
        row = next(i for i, line in enumerate(lines) if "stage(b, 256" in line)
        use = await client.hover(resnet, row, lines[row].index("stage(b, 256") + 2)
        text = use.contents.value
        assert "block `stage`" in text and "512x28x28 | 1024x14x14" in text and "| 6 |" not in text
        blocks = client.open(STD / "resnet_blocks.arch")  # a library file: hovered through resnet.arch
        assert await client.diagnostics(blocks, 1) == ()  # blocks without a network are no error
        lines = (STD / "resnet_blocks.arch").read_text().splitlines()
        row = next(i for i, line in enumerate(lines) if "3x3:width/s" in line)
        inner = await client.hover(blocks, row, lines[row].index("3x3:width/s") + 1)
        assert "(16 uses)" in inner.contents.value and "64x56x56" in inner.contents.value
    session(body)


def test_definitions_of_blocks_includes_and_named_tensors():
    async def body(client: Client) -> None:
        path = ARCHS / "googlenet.arch"
        uri = client.open(path)
        await client.diagnostics(uri, 1)  # checked: definitions read the analysis
        lines = path.read_text().splitlines()

        async def where(row: int, word: str, nth: int = 0) -> t.Location:
            column = [i for i in range(len(lines[row])) if lines[row].startswith(word, i)][nth]
            found = await client.text_document_definition_async(
                t.DefinitionParams(t.TextDocumentIdentifier(uri), t.Position(row, column + 1)))
            return found
        use = next(i for i, line in enumerate(lines) if line.strip().startswith("a4 ->"))
        named = await where(use, "a4")
        assert lines[named.range.start.line][named.range.start.character:].startswith("a4")
        assert "as a4" in lines[named.range.start.line]
        call = next(i for i, line in enumerate(lines) if "-> inc(64" in line)
        block = await where(call, "inc")
        assert lines[block.range.start.line].startswith("block inc(")
        resnet = client.open(ARCHS / "resnet152.arch")
        await client.diagnostics(resnet, 1)
        include = await client.text_document_definition_async(
            t.DefinitionParams(t.TextDocumentIdentifier(resnet), t.Position(1, 12)))
        assert Path(to_fs_path(include.uri)) == ARCHS / "resnet.arch"
        std = client.open(ARCHS / "resnet.arch")
        await client.diagnostics(std, 1)
        text = (ARCHS / "resnet.arch").read_text().splitlines()
        row = next(i for i, line in enumerate(text) if "classifier(" in line)
        found = await client.text_document_definition_async(t.DefinitionParams(
            t.TextDocumentIdentifier(std), t.Position(row, text[row].index("classifier") + 2)))
        assert Path(to_fs_path(found.uri)) == STD / "std.arch"
    session(body)


def test_completion_symbols_inlay_hints_and_formatting(tmp_path):
    path = tmp_path / "n.arch"
    text = ('include "resnet_blocks.arch"\nnetwork n(k=10) : 3x32x32 {\n  conv(16, bias=false) -> bn -> basic(16)\n'
            "  -> basic(32, s=2) as x\n  x  ->  gap -> fc:k\n}\n")
    path.write_text(text)

    async def body(client: Client) -> None:
        uri = client.open(path)
        assert await client.diagnostics(uri, 1) == ()

        async def complete(line: int, character: int) -> set[str]:
            found = await client.text_document_completion_async(t.CompletionParams(
                t.TextDocumentIdentifier(uri), t.Position(line, character)))
            return {item.label for item in found.items}
        anywhere = await complete(2, 0)
        assert {"conv3x3", "maxpool3x3", "relu", "bn", "basic", "bottleneck", "k", "x", "residual", "let"} <= anywhere
        assert {"c=", "s="} == await complete(3, len("  -> basic(32, "))
        assert {"out=", "groups=", "bias="} <= await complete(2, len("  conv(16, "))
        symbols = await client.text_document_document_symbol_async(
            t.DocumentSymbolParams(t.TextDocumentIdentifier(uri)))
        assert [s.name for s in symbols] == ["resnet_blocks.arch", "n"]
        assert {c.name for c in symbols[1].children} == {"k", "x"}
        hints = await client.text_document_inlay_hint_async(t.InlayHintParams(
            t.TextDocumentIdentifier(uri), t.Range(t.Position(0, 0), t.Position(10, 0))))
        assert [(h.position.line, h.label) for h in hints] == [
            (2, "-> 16x32x32"), (3, "-> 32x16x16"), (4, "-> 10")]
        edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
            t.TextDocumentIdentifier(uri), t.FormattingOptions(tab_size=2, insert_spaces=True)))
        assert edits[0].new_text.splitlines()[4] == "  x -> gap -> fc:k"
        assert edits[0].new_text.splitlines()[2] == "  conv(16, bias=false) -> bn -> basic(16)"
    session(body)


def test_a_def_is_a_symbol_with_completion_and_definitions(tmp_path):
    path = tmp_path / "d.arch"
    text = ('include "modern.arch"\ndef half(c, at_least=8) = max(at_least, c // 2)\n'
            "network n : 3x32x32 = 3x3:(half(64)) -> (3)x(3):(make_divisible(20))\n")
    path.write_text(text)

    async def body(client: Client) -> None:
        uri = client.open(path)
        assert await client.diagnostics(uri, 1) == ()
        symbols = await client.text_document_document_symbol_async(
            t.DocumentSymbolParams(t.TextDocumentIdentifier(uri)))
        assert [(s.name, s.kind) for s in symbols][1] == ("half", t.SymbolKind.Function)
        assert symbols[1].detail == "def half(c, at_least=...)" and [c.name for c in symbols[1].children] == [
            "c", "at_least"]
        found = await client.text_document_completion_async(t.CompletionParams(
            t.TextDocumentIdentifier(uri), t.Position(2, 0)))
        assert {"half", "make_divisible"} <= {item.label for item in found.items}
        inside = await client.text_document_completion_async(t.CompletionParams(
            t.TextDocumentIdentifier(uri), t.Position(2, text.splitlines()[2].index("half(") + 5)))
        assert {item.label for item in inside.items} == {"c=", "at_least="}
        here = await client.text_document_definition_async(t.DefinitionParams(
            t.TextDocumentIdentifier(uri), t.Position(2, text.splitlines()[2].index("make_divisible") + 2)))
        assert Path(to_fs_path(here.uri)) == STD / "modern.arch"
        assert (STD / "modern.arch").read_text().splitlines()[here.range.start.line].startswith("def make_divisible(")
    session(body)
