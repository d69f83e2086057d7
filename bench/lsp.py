"""Language-server speed, measured from the editor's side: `cnndsl lsp` runs as a subprocess and
a pygls client times real LSP messages over stdio (median and worst of N).

  * re-check: a one-character edit of resnet152.arch (num_classes 1000 <-> 1001, alternating),
    from sending didChange to receiving that version's publishDiagnostics; the whole ResNet-152
    (517 nodes) is elaborated and analysed again;
  * re-check with a syntax error: edits alternating between the valid file and one whose last `)`
    is deleted (half the keystrokes of someone typing leave a syntax error), timed on the broken
    ones: the parser's fast loop stops and Lark parses the text again for its error message, and
    the first of them imports and loads Lark (the worst time);
  * hover: on the bottleneck's 3x3 in the standard library's resnet_blocks.arch (50 uses in
    ResNet-152, the most work a hover does) and on a block use in resnet.arch.

Run: python bench/lsp.py [N]. Goals (issue 11): re-check under 50 ms, hover under 20 ms."""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lsp_client import Client  # noqa: E402 - tests/ is on the path from here on

RESNET152 = ROOT / "archs" / "resnet152.arch"


async def recheck_times(client: Client, n: int, broken: bool = False, first: int = 2) -> list[float]:
    """Times of `n` edits of resnet152.arch (already open), as versions `first`, `first` + 1, ..."""
    text = RESNET152.read_text()
    uri = from_fs_path(str(RESNET152))
    times = []
    for version in range(first, first + (2 * n if broken else n)):
        if broken:
            edited = text if version % 2 else text[:text.rindex(")")] + text[text.rindex(")") + 1:]
        else:
            edited = text if version % 2 else text.replace("num_classes=1000", "num_classes=1001", 1)
        start = time.perf_counter()
        client.edit(uri, edited, version)
        found = await client.diagnostics(uri, version)
        if edited is text:
            assert not found, found
            if broken:
                continue
        else:
            assert bool(found) == broken, found
        times.append(time.perf_counter() - start)
    return times


async def hover_times(client: Client, path: Path, line: int, character: int, n: int) -> list[float]:
    uri = client.open(path)
    await client.diagnostics(uri)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        found = await client.hover(uri, line, character)
        times.append(time.perf_counter() - start)
        assert found is not None
    return times


def row(name: str, times: list[float]) -> str:
    ms = [1000 * t for t in times]
    return f"{name:<46} {statistics.median(ms):>9.1f} {max(ms):>9.1f} {len(ms):>5}"


async def main(n: int) -> None:
    client = Client()
    await client.start()
    try:
        client.open(RESNET152)
        await client.diagnostics(from_fs_path(str(RESNET152)), 1)
        recheck = await recheck_times(client, n)
        recheck_broken = await recheck_times(client, n, broken=True, first=n + 2)
        blocks = ROOT / "cnndsl" / "stdlib" / "resnet_blocks.arch"
        line = next(i for i, text in enumerate(blocks.read_text().splitlines()) if "3x3:width/s" in text)
        layer = await hover_times(client, blocks, line, blocks.read_text().splitlines()[line].index("3x3:width") + 1, n)
        resnet = ROOT / "archs" / "resnet.arch"
        use_line = next(i for i, text in enumerate(resnet.read_text().splitlines()) if "stage(b, 256" in text)
        column = resnet.read_text().splitlines()[use_line].index("stage") + 1
        use = await hover_times(client, resnet, use_line, column, n)
    finally:
        await client.finish()
    print(f"{'':<46} {'median ms':>9} {'worst ms':>9} {'runs':>5}")
    print(row("re-check resnet152.arch after a 1-char edit", recheck))
    print(row("re-check: the edit leaves a syntax error", recheck_broken))
    print(row("hover: bottleneck 3x3 (50 uses in ResNet-152)", layer))
    print(row("hover: a block use (stage) in resnet.arch", use))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
