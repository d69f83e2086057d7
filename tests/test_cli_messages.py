"""The command line as a new user meets it: --version, the zoo, compare's parameters, totals,
per-image labels, and every user error a located one-paragraph diagnostic, never "internal error"."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cnndsl
from cnndsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "archs"
NET = "network n(aux=false, width=8) : 3x8x8 = 3x3:width -> gap -> fc:3\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err
    return rc, out, err


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cnndsl {cnndsl.__version__}"


def test_zoo_lists_every_file_with_its_networks_params_and_macs(capsys):
    rc, out, err = run(capsys, "zoo")
    assert rc == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {p.name for p in ARCHS.glob("*.arch")}
    assert re.search(r"^resnet50\.arch\s+resnet50\s+25,557,032 params\s+4,089,184,256 MACs$", lines["resnet50.arch"])


def test_a_zoo_file_is_found_by_its_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run(capsys, "check", "resnet18.arch")
    assert rc == 0 and "resnet18: " in out


def test_compare_takes_defines_input_and_network(capsys):
    rc, out, err = run(capsys, "compare", str(ARCHS / "resnet.arch"), str(ARCHS / "lenet5.arch"),
                       "-D", "depth=101", "--json")
    assert rc == 0, err
    rows = json.loads(out)["rows"]
    assert rows[0]["network"] == "resnet(depth=101)" and rows[0]["params"] == 44_549_160
    assert rows[1]["network"] == "lenet5"  # lenet5 has no `depth`: -D leaves it alone
    rc, out, err = run(capsys, "compare", str(ARCHS / "resnet18.arch"), "--input", "3x64x64", "--json")
    assert json.loads(out)["rows"][0]["input"] == [3, 64, 64]


def test_compare_sets_parameters_per_file(capsys):
    rc, out, err = run(capsys, "compare", f"{ARCHS / 'resnet.arch'}:depth=18", f"{ARCHS / 'resnet.arch'}:depth=34,"
                       "num_classes=10", "--json")
    assert rc == 0, err
    rows = json.loads(out)["rows"]
    assert [r["network"] for r in rows] == ["resnet(depth=18)", "resnet(depth=34, num_classes=10)"]
    assert rows[0]["params"] == 11_689_512


def test_compare_refuses_a_define_no_file_has(capsys):
    rc, _, err = run(capsys, "compare", str(ARCHS / "lenet5.arch"), "-D", "depth=101")
    assert rc == 1 and "-D depth: no file's network has a parameter `depth`" in err


def test_totals_and_emit_print_no_table(capsys, tmp_path):
    rc, out, _ = run(capsys, "summary", str(ARCHS / "resnet18.arch"), "--totals")
    assert rc == 0 and out.startswith("network   resnet18") and "layer  " not in out
    rc, out, _ = run(capsys, "compile", str(ARCHS / "lenet5.arch"), "--emit", "json", "-o", str(tmp_path / "r.json"))
    assert rc == 0 and out.startswith("network   lenet5")


def test_batch_labels_operations_per_image(capsys):
    rc, out, _ = run(capsys, "summary", str(ARCHS / "resnet18.arch"), "-q", "--batch", "32")
    assert "MACs      1,814,073,344  (1.814 G, conv + linear, per image)" in out
    assert "batch     32: the operations above are per image (x32 for the batch)" in out


def test_a_define_named_like_an_api_keyword_is_a_parameter(capsys, write_arch):
    path = write_arch(NET)
    rc, _, err = run(capsys, "check", str(path), "-D", "input=4")
    assert rc == 1
    assert "network `n` has no parameter `input` (parameters: aux, width)" in err
    assert "help: the input shape is set with --input CxHxW" in err
    graph = cnndsl.analyze(write_arch("network m(input=3) : 3x8x8 = 3x3:input\n", "m.arch"), params={"input": 5})
    assert graph.params == {"input": 5}


def test_python_spellings_of_true_get_a_hint(capsys, write_arch):
    rc, _, err = run(capsys, "check", str(write_arch(NET)), "-D", "aux=True")
    assert rc == 1 and "unknown name `True`" in err and "help: did you mean `true`?" in err


def test_an_empty_input_shape_is_refused(capsys, write_arch):
    rc, _, err = run(capsys, "check", str(write_arch(NET)), "--input", "")
    assert rc == 1 and "--input:1:1: error: --input must look like CxHxW (e.g. 3x224x224)" in err


def test_check_counts_layers_as_compile_does(capsys):
    rc, out, _ = run(capsys, "check", str(ARCHS / "resnet18.arch"))
    _, table, _ = run(capsys, "compile", str(ARCHS / "resnet18.arch"), "-q")
    layers = re.search(r"layers    ([\d,]+)", table)[1]
    assert f"resnet18: {layers} layers, 11,689,512 params" in out


def test_compare_measure_without_torch_says_what_to_install():
    code = ("import sys; sys.modules['torch'] = None; from cnndsl.cli import main; "
            f"sys.exit(main(['compare', {str(ARCHS / 'lenet5.arch')!r}, '--measure']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "--measure times the compiled networks with PyTorch, which is not installed" in done.stderr
    assert "internal error" not in done.stderr


@pytest.mark.parametrize("args, env, coloured", [
    (["--color", "always"], {}, True),
    (["--color", "never"], {}, False),
    ([], {}, False),  # auto, and stderr is a pipe here
    (["--color", "always"], {"NO_COLOR": "1"}, True),  # an explicit choice wins
])
def test_diagnostics_are_coloured_only_on_request_or_on_a_terminal(write_arch, args, env, coloured):
    bad = write_arch("network n : 3x8x8 = conv3x3:0\n")
    done = subprocess.run([sys.executable, "-m", "cnndsl", "check", str(bad), *args], capture_output=True, text=True,
                          cwd=ROOT, env={**_env(), **env}, timeout=120)
    assert done.returncode == 1
    assert ("\x1b[" in done.stderr) == coloured
    plain = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr)
    assert f"{bad}:1:21: error: bad value for `out` of `conv`: 0" in plain


def test_auto_colour_on_a_terminal_unless_no_color(monkeypatch):
    from cnndsl.diagnostics import use_color

    class Tty:
        def isatty(self) -> bool:
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color("auto", Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", Tty())


def _env() -> dict[str, str]:
    import os
    return {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
