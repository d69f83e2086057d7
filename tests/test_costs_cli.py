"""`cnndsl compare`, `--convention`/`--batch`/`--dtype`, the chart, the published JSON schemas and
the worked inception example of docs/costs.md."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cnndsl
from cnndsl.cli import main
from cnndsl.views.compare import Comparison
from cnndsl.views.report import Report, build_report

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "archs"
SMALL = [str(ARCHS / "lenet5.arch"), str(ARCHS / "alexnet.arch")]


def test_compare_and_chart_do_not_import_torch(tmp_path):
    code = ("import sys; from cnndsl.cli import main; "
            f"rc = main(['compare', *{SMALL!r}, '--markdown', '--chart', {str(tmp_path / 'c.svg')!r}]); "
            "assert rc == 0; assert not [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


def test_compare_json_rows_are_the_reports(capsys):
    assert main(["compare", *SMALL, "--json", "--convention", "ptflops", "--batch", "4", "--dtype", "float16"]) == 0
    comparison = Comparison.model_validate_json(capsys.readouterr().out)
    assert (comparison.convention, comparison.batch, comparison.dtype) == ("ptflops", 4, "float16")
    for row, path in zip(comparison.rows, SMALL):
        report = build_report(cnndsl.analyze(path), batch=4, dtype="float16")
        assert (row.network, row.params, row.macs, row.ops) == \
            (report.network, report.params, report.macs, report.conventions["ptflops"])
        assert row.training_saved_bytes == report.memory.training_saved_bytes
        assert row.inference_peak_bytes == report.memory.inference_peak_bytes


def test_compare_tables(capsys):
    assert main(["compare", *SMALL, "--markdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + len(SMALL) and lines[0].startswith("| network |")
    assert "| alexnet | 3x224x224 | 61,100,840 | 714,188,480 |" in lines[3]
    assert main(["compare", *SMALL, "--convention", "fvcore"]) == 0
    assert "ops (fvcore)" in capsys.readouterr().out


def test_chart_svg_and_png(tmp_path, capsys):
    svg, png = tmp_path / "c.svg", tmp_path / "c.png"
    assert main(["compare", *SMALL, "--chart", str(svg), "--chart", str(png), "--title", "Two nets"]) == 0
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len([c for c in root.findall(f"{ns}circle") if c.get("class") == "bubble"]) == len(SMALL)
    assert {"lenet5", "alexnet", "Two nets"} <= {t.text for t in root.findall(f"{ns}text")}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["compare", *SMALL, "--chart", str(tmp_path / "c.pdf")]) == 1
    assert "svg or .png" in capsys.readouterr().err and not (tmp_path / "c.pdf").exists()


def test_compare_measures_latency(capsys):
    assert main(["compare", str(ARCHS / "lenet5.arch"), "--measure", "--device", "cpu", "--repeat", "2", "--json"]) == 0
    row = Comparison.model_validate_json(capsys.readouterr().out).rows[0]
    assert set(row.latency_ms) == {"cpu"} and row.latency_ms["cpu"] > 0


def test_summary_options(capsys):
    path = str(ARCHS / "googlenet.arch")
    assert main(["summary", path, "--convention", "torchinfo"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[4] == "torchinfo"
    assert f"{cnndsl.report(path).conventions['torchinfo']:,}" in out
    assert main(["compile", path, "--json", "--batch", "8", "--dtype", "bfloat16"]) == 0
    report = Report.model_validate_json(capsys.readouterr().out)
    assert (report.memory.batch, report.memory.dtype, report.memory.itemsize) == (8, "bfloat16", 2)
    assert report.memory.input_bytes == 8 * 3 * 224 * 224 * 2


def test_published_schemas_are_current():
    """docs/*.schema.json are what `python docs/generate_costs.py` writes from the pydantic models."""
    for name, model in (("report", Report), ("compare", Comparison)):
        assert json.loads((ROOT / "docs" / f"{name}.schema.json").read_text()) == model.model_json_schema(), name


def test_report_keeps_its_keys_and_validates():
    data = json.loads(cnndsl.report(ARCHS / "lenet5.arch").model_dump_json())
    assert {"params", "macs", "flops", "inputs", "outputs", "layers", "conventions", "other_ops", "memory",
            "receptive_field"} <= set(data)
    assert {"conventions", "other_ops", "memory", "rf"} <= set(data["layers"][0])


def test_worked_inception_example():
    """docs/examples/inception.arch gives the lecture's figures (its terms written out as products:
    output pixels x filters x input channels x kernel area; ../shared/reference/README.md)."""
    hw, path = 28 * 28, ROOT / "docs" / "examples" / "inception.arch"
    naive = cnndsl.report(path, network="naive")
    assert naive.macs == hw * (128 * 256 + 192 * 256 * 9 + 96 * 256 * 25) == 854_196_224
    assert naive.outputs["output"] == [672, 28, 28]
    bottleneck = cnndsl.report(path, network="bottleneck")
    assert bottleneck.macs == hw * (128 * 256 + 64 * 256 + 192 * 64 * 9 + 64 * 256 + 96 * 64 * 25 + 64 * 256)
    assert bottleneck.macs == 271_351_808 and bottleneck.outputs["output"] == [480, 28, 28]
