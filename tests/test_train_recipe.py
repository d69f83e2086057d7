"""The recipe: LeNet-5 on digits with the defaults reaches 97%; the schedules are torch's own
schedulers' rates; the dataset-dependent defaults follow the documented rule."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cnndsl.train import TrainConfig
from cnndsl.train.config import Recipe, default_batch_size, default_epochs, resolve
from cnndsl.train.records import COLUMNS
from cnndsl.train.schedule import Schedule, plateau_patience
from train_fixtures import ARCHS, LENET, ROOT, run_cli


@pytest.mark.slow
def test_lenet5_on_digits_with_the_defaults_reaches_97_percent(tmp_path: Path) -> None:
    out = tmp_path / "lenet"
    start = time.perf_counter()
    done = run_cli("train", LENET, "--data", "digits", "--out", str(out), timeout=300)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 30
    assert float(rows[-1]["val_acc"]) >= 0.97, rows[-1]
    print(f"LeNet-5 on digits: {float(rows[-1]['val_acc']):.4f} in {seconds:.1f} s")  # shown with -s
    info = json.loads((out / "run.json").read_text())
    assert info["recipe"] == {"epochs": 30, "batch_size": 32, "lr": 0.0025, "momentum": 0.9, "weight_decay": 1e-4,
                              "schedule": "step", "warmup": 0, "label_smoothing": 0.0, "flip": False, "seed": 0,
                              "amp": False}
    assert info["command"].startswith("cnndsl train ") and "--data digits" in info["command"]
    assert (out / "lenet5.arch").read_text() == Path(LENET).read_text()
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] == 30 and state["history"][-1]["val_acc"] == pytest.approx(float(rows[-1]["val_acc"]))
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left


def _rates(schedule: Schedule, optimizer: torch.optim.Optimizer, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.after_step()
    return out


def _recipe(**kw: object) -> Recipe:
    base = {"epochs": 8, "batch_size": 32, "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "schedule": "step",
            "warmup": 0, "label_smoothing": 0.0, "flip": True, "seed": 0, "amp": False}
    return Recipe(**{**base, **kw})


def _sgd() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)


def test_step_and_cosine_are_torchs_multistep_and_cosine_annealing() -> None:
    steps_per_epoch, total = 10, 80
    for kind in ("step", "cosine"):
        ours_opt, ref_opt = _sgd(), _sgd()
        ours = _rates(Schedule(ours_opt, _recipe(schedule=kind), steps_per_epoch), ours_opt, total)
        ref_sched = (torch.optim.lr_scheduler.MultiStepLR(ref_opt, [40, 60], 0.1) if kind == "step"
                     else torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, total))
        ref = []
        for _ in range(total):
            ref.append(ref_opt.param_groups[0]["lr"])
            ref_opt.step()
            ref_sched.step()
        assert ours == pytest.approx(ref, rel=1e-9, abs=1e-12), kind


def test_warmup_rises_linearly_from_a_tenth() -> None:
    opt = _sgd()
    rates = _rates(Schedule(opt, _recipe(warmup=2), 10), opt, 25)
    assert rates[0] == pytest.approx(0.01) and rates[10] == pytest.approx(0.1 * (0.1 + 0.9 * 10 / 20))
    assert rates[20:25] == pytest.approx([0.1] * 5)


def test_plateau_divides_by_ten_after_patience_epochs_without_progress() -> None:
    opt = _sgd()
    schedule = Schedule(opt, _recipe(schedule="plateau", epochs=30), 5)
    patience = plateau_patience(30)
    assert patience == 3
    rates = []
    for _ in range(8):
        _rates(schedule, opt, 5)
        schedule.after_epoch(1.0)  # a validation loss that never improves
        rates.append(opt.param_groups[0]["lr"])
    assert rates[: patience + 1] == pytest.approx([0.1] * (patience + 1))
    assert rates[patience + 1] == pytest.approx(0.01)


def test_dataset_sized_defaults() -> None:
    assert (default_batch_size(1437, 32), default_epochs(1437)) == (32, 30)  # digits
    assert (default_batch_size(50_000, 32), default_epochs(50_000)) == (128, 182)  # CIFAR
    assert (default_batch_size(1_281_167, 224), default_epochs(1_281_167)) == (256, 90)  # ImageNet
    config = TrainConfig(arch=str(ARCHS / "resnet20_cifar.arch"), data="x")
    bn = resolve(config, n_train=50_000, side=32, flip_default=True, world_size=1, batch_norm=True)
    plain = resolve(config, n_train=50_000, side=32, flip_default=True, world_size=1, batch_norm=False)
    assert (bn.lr, plain.lr, bn.weight_decay, bn.momentum, bn.flip) == (0.05, 0.01, 1e-4, 0.9, True)


def test_registering_train_and_eval_imports_no_torch() -> None:
    code = ("import sys; from cnndsl.cli import make_parser; p = make_parser(); "
            "p.parse_args(['train', 'x.arch', '--data', 'digits']); "
            "p.parse_args(['eval', 'x.arch', '--checkpoint', 'c']); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
