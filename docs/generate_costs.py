"""Regenerate the parts of docs/costs.md that the tool computes, and the published JSON schemas.

    python docs/generate_costs.py            # from the repository root; no torch needed

Rewrites what stands between `<!-- generated: NAME -->` and `<!-- end: NAME -->` in docs/costs.md,
writes the charts docs/costs-chart-NAME.svg and (with Pillow) .png for each of CHARTS, and
docs/report.schema.json and docs/compare.schema.json. The zoo is every archs/*.arch that no other
one includes (a family file such as resnet.arch is compared through its thin files, resnet18.arch
and resnet50.arch).
"""
from __future__ import annotations

import json
import os
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnndsl.api import analyze  # noqa: E402
from cnndsl.passes import CONVENTIONS  # noqa: E402
from cnndsl.views import compare  # noqa: E402
from cnndsl.views.chart import to_png, to_svg  # noqa: E402
from cnndsl.views.report import Report, build_report, format_table  # noqa: E402

DOCS = ROOT / "docs"
INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"', re.M)


def zoo() -> list[Path]:
    files = sorted((ROOT / "archs").glob("*.arch"))
    included = {name for f in files for name in INCLUDE.findall(f.read_text())}
    return [f for f in files if f.name not in included]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@cache
def zoo_rows() -> list[compare.Row]:
    return compare.rows((analyze(rel(f)), rel(f), {}) for f in zoo())


def zoo_table() -> str:
    command = "cnndsl compare " + " ".join(rel(f) for f in zoo()) + " --markdown"
    return f"`{command}`\n\n{compare.format_markdown(zoo_rows())}\n"


# One chart per input size: ImageNet networks and CIFAR networks live decades apart in MACs and
# would crowd one another's labels on a single chart. (name, title, which rows, caption)
CHARTS = [
    ("imagenet", "ImageNet-sized inputs (224, 227, 299 px): MACs and parameters",
     lambda row: min(row.input[1:]) >= 200, "networks for ImageNet (inputs of 224, 227 or 299 pixels)"),
    ("cifar", "32x32 inputs (CIFAR; LeNet-5 on MNIST): MACs and parameters",
     lambda row: max(row.input[1:]) <= 32, "networks for 32x32 inputs (CIFAR; LeNet-5 on MNIST)"),
]


def charts() -> str:
    rows = zoo_rows()
    homeless = [r.network for r in rows if not any(keep(r) for _, _, keep, _ in CHARTS)]
    if homeless:
        raise SystemExit(f"no chart in docs/generate_costs.py CHARTS takes {', '.join(homeless)}: add one")
    out = []
    for name, title, keep, caption in CHARTS:
        chosen = [r for r in rows if keep(r)]
        scene = compare.chart(chosen, title=title)
        (DOCS / f"costs-chart-{name}.svg").write_text(to_svg(scene))
        try:
            to_png(scene, DOCS / f"costs-chart-{name}.png")
        except ImportError:
            print(f"Pillow is not installed: docs/costs-chart-{name}.png left as it was", file=sys.stderr)
        files = " ".join(r.file for r in chosen)
        out.append(f"![MACs against parameters, bubble area by training memory: {caption}](costs-chart-{name}.svg)\n\n"
                   f"{len(chosen)} {caption} ([PNG](costs-chart-{name}.png)):\n"
                   f"`cnndsl compare {files} --title '{title}' --chart costs-chart-{name}.svg`\n")
    return "\n".join(out)


def inception() -> str:
    out = []
    for network in ("naive", "bottleneck"):
        report = build_report(analyze("docs/examples/inception.arch", network=network))
        table = format_table(report).split("\n\nnetwork")[0]
        out.append(f"`cnndsl summary docs/examples/inception.arch --network {network}`\n\n```\n{table}\n```\n\n"
                   f"{network}: {report.macs:,} MACs, {report.outputs['output'][0]} output channels, "
                   f"{report.params:,} parameters.\n")
    return "\n".join(out)


def conventions_example() -> str:
    report = build_report(analyze("docs/examples/conventions.arch"))
    names = list(CONVENTIONS)
    head = ["layer", "output"] + names + ["cnndsl other ops"]
    lines = ["| " + " | ".join(head) + " |", "| --- | --- |" + " ---: |" * (len(head) - 2)]
    for layer in report.layers:
        other = ", ".join(f"{k} {v:,}" for k, v in layer.other_ops.items())
        lines.append(f"| {layer.label} | {'x'.join(map(str, layer.shape))} | "
                     + " | ".join(f"{layer.conventions[n]:,}" for n in names) + f" | {other} |")
    lines.append("| **total** | | " + " | ".join(f"**{report.conventions[n]:,}**" for n in names) + " | |")
    return "`cnndsl compile docs/examples/conventions.arch --json` (per layer: `layers[].conventions`)\n\n" \
        + "\n".join(lines) + "\n"


SECTIONS = {"zoo": zoo_table, "charts": charts, "inception": inception, "conventions": conventions_example}


def schemas() -> None:
    for name, model in (("report", Report), ("compare", compare.Comparison)):
        (DOCS / f"{name}.schema.json").write_text(json.dumps(model.model_json_schema(), indent=2) + "\n")


def main() -> None:
    os.chdir(ROOT)  # the tables name files relative to the repository
    path = DOCS / "costs.md"
    text = path.read_text()
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"docs/costs.md has no section `{name}`")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + m.group(2), text)
    path.write_text(text)
    schemas()
    print("wrote docs/costs.md, " + ", ".join(f"docs/costs-chart-{name}.svg/.png" for name, *_ in CHARTS)
          + ", docs/report.schema.json, docs/compare.schema.json")


if __name__ == "__main__":
    main()
