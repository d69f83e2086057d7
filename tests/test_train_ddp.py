"""torchrun: two gloo processes on loopback train to the parameters one process reaches with the same
global batch, and only rank 0 logs and writes."""
from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnndsl import CnnDslError
from cnndsl.train import TrainConfig, fit
from cnndsl.train.config import resolve
from train_fixtures import LENET, ROOT, cli_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(*args: str, nproc: int = 2, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(nproc),
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), "-m", "cnndsl", *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=cli_env(), cwd=ROOT)


def _rows(out: Path) -> list[dict[str, float]]:
    rows = csv.DictReader((out / "metrics.csv").open())
    return [{k: float(v) for k, v in row.items() if k != "seconds"} for row in rows]


@pytest.mark.slow
def test_two_processes_end_where_one_process_ends(tmp_path: Path, one_torch_thread: None) -> None:
    ddp, one = tmp_path / "ddp", tmp_path / "one"
    proc = _torchrun("train", LENET, "--data", "digits", "--epochs", "2", "--out", str(ddp))
    assert proc.returncode == 0, proc.stderr[-3000:]
    fit(LENET, data="digits", epochs=2, out=str(one), progress=False)
    a = torch.load(one / "last.pt", weights_only=True)
    b = torch.load(ddp / "last.pt", weights_only=True)
    diff = max((a["model"][k] - b["model"][k]).abs().max().item() for k in a["model"])
    assert diff < 1e-5, f"max parameter difference {diff:.3g}"
    print(f"torchrun x2 against one process: max parameter difference {diff:.3g}")  # shown with -s
    for ra, rb in zip(_rows(one), _rows(ddp), strict=True):
        for key in ra:
            assert ra[key] == pytest.approx(rb[key], rel=1e-4, abs=1e-6), key
    assert json.loads((ddp / "run.json").read_text())["world_size"] == 2
    assert b["recipe"] == a["recipe"] and b["recipe"]["batch_size"] == 32  # the global batch
    assert proc.stderr.count("training network `lenet5`") == 1  # rank 0 logs, rank 1 does not
    assert proc.stderr.count("epoch 2/2:") == 1
    assert sorted(p.name for p in ddp.iterdir()) == sorted(p.name for p in one.iterdir())


def test_an_error_under_torchrun_is_said_once(tmp_path: Path) -> None:
    proc = _torchrun("train", LENET, "--data", "digits", "--batch-size", "33", "--out", str(tmp_path / "x"))
    assert proc.returncode != 0
    assert proc.stderr.count("--batch-size 33 is the global batch and must divide evenly among the 2") == 1
    ours = proc.stderr.split("distributed/elastic")[0]  # what follows is torchrun's own report (and traceback)
    assert "must divide evenly" in ours and "Traceback" not in ours
    assert not (tmp_path / "x" / "last.pt").exists()


def test_the_global_batch_must_split_evenly() -> None:
    config = TrainConfig(arch=LENET, data="digits", batch_size=30)
    recipe = resolve(config, n_train=1000, side=32, flip_default=False, world_size=3, batch_norm=False)
    assert recipe.batch_size == 30 and recipe.lr == pytest.approx(0.01 * 30 / 128)
    with pytest.raises(CnnDslError, match="must divide evenly among the 4 processes"):
        resolve(config, n_train=1000, side=32, flip_default=False, world_size=4, batch_norm=False)
