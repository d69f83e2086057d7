"""On a CUDA machine: mixed precision (float16 with the loss scaler) and channels_last train, and
their checkpoints evaluate on CPU. Skipped where there is no GPU."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from cnndsl.train import evaluate, fit
from train_fixtures import ARCHS

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_amp_and_channels_last_train_on_cuda(tmp_path: Path) -> None:
    arch = str(ARCHS / "resnet20_cifar.arch")  # batch norm and 3x3 convs: what channels_last is for
    result = fit(arch, data="digits", epochs=2, amp=True, device="cuda", out=str(tmp_path / "run"), progress=False)
    conv = next(p for p in result.model.parameters() if p.dim() == 4)
    assert conv.is_cuda and conv.is_contiguous(memory_format=torch.channels_last)
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert all(math.isfinite(float(r["train_loss"])) for r in rows)
    assert float(rows[-1]["val_acc"]) > 0.7  # on CPU in float32 two epochs reach 96%; chance is 10%
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert state["scaler"]["scale"] > 0  # the float16 loss scaler ran and was saved
    on_cpu = evaluate(arch, [tmp_path / "run" / "last.pt"], device="cpu")
    assert on_cpu.members[0].top1 == pytest.approx(float(rows[-1]["val_acc"]), abs=0.02)


def test_channels_last_can_be_switched_off(tmp_path: Path) -> None:
    result = fit(str(ARCHS / "resnet20_cifar.arch"), data="digits", epochs=1, device="cuda", channels_last=False,
                 out=str(tmp_path / "run"), progress=False)
    conv = next(p for p in result.model.parameters() if p.dim() == 4)
    assert conv.is_contiguous() and not conv.is_contiguous(memory_format=torch.channels_last)
