"""Language-server speed, measured from the editor's side: `cnndsl lsp` runs as a subprocess and
a pygls client times real LSP messages over stdio (median and worst of N).

  * re-check: a one-character edit of resnet152.arch (num_classes 1000 <-> 1001, alternating),
    from sending didChange to receiving that version's publishDiagnostics; the whole ResNet-152
    (517 nodes) is elaborated and analysed again;
  * hover: on the bottleneck's 3x3 in the standard library's resnet_blocks.arch (50 uses in
    ResNet-152, the most work a hover does) and on a block use in resnet.arch.

Run: python bench/lsp.py [N]. Goals (issue 11): re-check under 50 ms, hover under 20 ms."""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lsp_client import Client  # noqa: E402 - tests/ is on the path from here on


async def recheck_times(client: Client, n: int) -> list[float]:
    path = ROOT / "archs" / "resnet152.arch"
    text = path.read_text()
    uri = client.open(path)
    await client.diagnostics(uri, 1)
    times = []
    for version in range(2, n + 2):
        edited = text if version % 2 else text.replace("num_classes=1000", "num_classes=1001", 1)
        start = time.perf_counter()
        client.edit(uri, edited, version)
        found = await client.diagnostics(uri, version)
        times.append(time.perf_counter() - start)
        assert not found, found
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
        recheck = await recheck_times(client, n)
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
    print(row("hover: bottleneck 3x3 (50 uses in ResNet-152)", layer))
    print(row("hover: a block use (stage) in resnet.arch", use))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
