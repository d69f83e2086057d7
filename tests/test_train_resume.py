"""--resume: a run killed in the middle of an epoch, resumed, ends bit-identical (on CPU) to the same
run left alone; and what resuming refuses."""
from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cnndsl import CnnDslError
from cnndsl.train import fit
from train_fixtures import LENET, ROOT, cli_env, run_cli

ARGS = ["train", LENET, "--data", "digits", "--epochs", "3"]


def _rows(out: Path) -> list[dict[str, str]]:
    """metrics.csv without the wall-clock column, which no two runs share."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader((out / "metrics.csv").open())]


def _kill_mid_epoch(out: Path) -> int:
    """Start the run, SIGKILL it a moment after its first checkpoint, while the next epoch runs;
    return the epoch the surviving checkpoint holds."""
    proc = subprocess.Popen([sys.executable, "-m", "cnndsl", *ARGS, "--out", str(out)], cwd=ROOT, env=cli_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (out / "last.pt").exists():
            assert proc.poll() is None, "the run ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint after 90 s"
            time.sleep(0.02)
        time.sleep(0.4)  # an epoch takes about a second here: well inside the next one
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        proc.kill()
        proc.wait()
    return torch.load(out / "last.pt", weights_only=True)["epoch"]


@pytest.mark.slow
def test_resume_after_a_kill_mid_epoch_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    done = run_cli(*ARGS, "--out", str(full))
    assert done.returncode == 0, done.stderr
    epoch = _kill_mid_epoch(cut)
    assert epoch in (1, 2)  # killed during epoch 2 or 3, so the checkpoint is of the epoch before
    assert len(_rows(cut)) == epoch
    resumed = run_cli(*ARGS, "--out", str(cut), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after epoch {epoch}" in resumed.stderr
    a, b = (torch.load(d / "last.pt", weights_only=True) for d in (full, cut))
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        assert torch.equal(sa["momentum_buffer"], sb["momentum_buffer"])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    assert a["schedule"] == b["schedule"]
    assert _rows(full) == _rows(cut) and len(_rows(cut)) == 3


def test_resume_takes_the_saved_recipe_and_refuses_a_different_one(tmp_path: Path, one_torch_thread: None) -> None:
    out = tmp_path / "run"
    fit(LENET, data="digits", epochs=1, lr=0.001, out=str(out), progress=False)
    before = (out / "last.pt").read_bytes()
    other = run_cli("train", LENET, "--data", "digits", "--lr", "0.01", "--out", str(out), "--resume")
    assert other.returncode == 1 and "Traceback" not in other.stderr
    assert "--lr 0.01 differs from 0.001" in other.stderr and str(out / "last.pt") in other.stderr
    assert (out / "last.pt").read_bytes() == before
    again = fit(LENET, data="digits", out=str(out), resume=True, progress=False)  # its 1 epoch is done
    assert again.history[0]["epoch"] == 1 and len(again.history) == 1
    assert (out / "last.pt").read_bytes() == before
    with pytest.raises(CnnDslError, match="already holds a run .* pass --resume to continue it"):
        fit(LENET, data="digits", out=str(out), progress=False)


def test_resume_needs_a_run_to_continue(tmp_path: Path) -> None:
    no_out = run_cli("train", LENET, "--data", "digits", "--resume")
    assert no_out.returncode == 1 and "--resume needs --out DIR" in no_out.stderr
    empty = run_cli("train", LENET, "--data", "digits", "--resume", "--out", str(tmp_path))
    assert empty.returncode == 1 and f"{tmp_path} holds no last.pt" in empty.stderr
    assert list(tmp_path.iterdir()) == []
