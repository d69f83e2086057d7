"""Bad input to `cnndsl train`: one paragraph naming the file, exit status 1, no traceback, and no
run folder or partial file left behind."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from cnndsl.cli import main
from train_fixtures import LENET, run_cli


def _fails(capsys: pytest.CaptureFixture, *args: str) -> str:
    rc = main(["train", *args])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err and "internal error" not in err
    return err


def test_an_arch_error_points_at_line_and_column(write_arch: Callable[..., Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    bad = write_arch("network n : 1x32x32 =\n  5x5:6 -> tanhh -> fc:10\n")
    err = _fails(capsys, str(bad), "--data", "digits", "--out", str(tmp_path / "run"))
    assert f"{bad}:2:" in err and "tanhh" in err
    assert not (tmp_path / "run").exists()


def test_a_missing_arch_file_fails_at_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert f"{tmp_path / 'nope.arch'}: no such file" in _fails(capsys, str(tmp_path / "nope.arch"), "--data", "digits")


def test_missing_data_and_wrong_specs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    err = _fails(capsys, LENET, "--data", str(tmp_path / "cifar"), "--out", str(out))
    assert f"--data {tmp_path / 'cifar'}: no such folder" in err and "digits" in err
    err = _fails(capsys, LENET, "--data", "mnist", "--out", str(out))
    assert "--data mnist: no such folder" in err
    assert not out.exists()


def test_a_fixed_width_network_must_match_the_classes(write_arch: Callable[..., Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    five = write_arch("network five : 1x32x32 = 5x5:6 -> gap -> fc:5\n")
    err = _fails(capsys, str(five), "--data", "digits", "--out", str(tmp_path / "run"))
    assert f"{five}: network `five` ends in 5 outputs but the data has 10 classes" in err
    wide = write_arch("network wide(k=5) : 1x32x32 = 5x5:6 -> gap -> fc:k\n", "wide.arch")
    err = _fails(capsys, str(wide), "--data", "digits", "-D", "k=3", "--out", str(tmp_path / "run"))
    assert "ends in 3 outputs but the data has 10 classes" in err


@pytest.mark.parametrize("option, value, message", [
    ("--label-smoothing", "1.5", "--label-smoothing must be in [0, 1)"),
    ("--lr", "-1", "--lr must be >= 0"),
    ("--device", "tpu", "--device must be cpu or cuda"),
])
def test_impossible_options_fail_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture, option: str,
                                                 value: str, message: str) -> None:
    assert message in _fails(capsys, LENET, "--data", "digits", option, value, "--out", str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    err = _fails(capsys, LENET, "--data", "digits", "--device", "cuda", "--out", str(tmp_path / "r"))
    assert "--device cuda: this machine has no CUDA device" in err


def test_the_command_line_reports_a_bad_checkpoint_in_one_paragraph(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "last.pt").write_bytes(b"PK\x03\x04 not really a zip")
    done = run_cli("train", LENET, "--data", "digits", "--out", str(out), "--resume")
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {out / 'last.pt'}: not a readable checkpoint")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["last.pt"]
