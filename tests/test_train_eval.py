"""`cnndsl eval`: top-1/top-5, confusion matrix and ensembles, checked against predictions computed
here from the checkpoint with nothing of cnndsl.train (sklearn's split, torch's resize and softmax)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import cnndsl
from cnndsl.cli import main
from cnndsl.train import evaluate, fit
from train_fixtures import ARCHS, LENET


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, one_torch_thread: None) -> list[Path]:
    """Two short LeNet-5 runs on digits that differ only in their seed: an ensemble's members."""
    root = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        fit(LENET, data="digits", epochs=2, seed=seed, out=str(root / f"seed{seed}"), progress=False)
    return [root / "seed0", root / "seed1"]


def _reference_probs(checkpoint: Path) -> tuple[np.ndarray, np.ndarray]:
    """Softmax of the negated RBF distances on the documented digits split (80/20, stratified,
    random_state=0), resized by bilinear interpolation and normalised as the checkpoint records."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    _, images, _, labels = train_test_split(digits.images / 16.0, digits.target, test_size=0.2,
                                            stratify=digits.target, random_state=0)
    x = torch.nn.functional.interpolate(torch.tensor(images, dtype=torch.float32)[:, None], size=(32, 32),
                                        mode="bilinear", align_corners=False)
    state = torch.load(checkpoint, weights_only=True)
    mean, std = state["normalisation"]
    model = cnndsl.load(LENET, num_classes=10)
    model.load_state_dict(state["model"])
    with torch.no_grad():
        probs = torch.softmax(-model.eval()((x - mean[0]) / std[0]).double(), 1)
    return probs.numpy(), labels


def test_eval_scores_a_checkpoint_as_computed_independently(runs: list[Path], capsys: pytest.CaptureFixture) -> None:
    best = runs[0] / "best.pt"
    probs, labels = _reference_probs(best)
    assert main(["eval", LENET, "--checkpoint", str(best), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    member = result["members"][0]
    assert result["images"] == len(labels) == 360 and result["ensemble"] is None
    assert member["top1"] == pytest.approx(np.mean(probs.argmax(1) == labels), abs=1 / 360)
    top5 = np.argsort(-probs, 1)[:, :5]
    assert member["top5"] == pytest.approx(np.mean((top5 == labels[:, None]).any(1)), abs=1 / 360)
    confusion = np.array(member["confusion"])
    assert confusion.sum() == 360 and np.trace(confusion) / 360 == pytest.approx(member["top1"])
    assert confusion.sum(1).tolist() == np.bincount(labels, minlength=10).tolist()
    rows = list(csv.DictReader((runs[0] / "metrics.csv").open()))
    assert member["top1"] == pytest.approx(max(float(r["val_acc"]) for r in rows), abs=1e-6)
    assert (runs[0] / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_ensemble_averages_the_softmax_of_its_members(runs: list[Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    paths = [str(r / "last.pt") for r in runs]
    (p0, labels), (p1, _) = (_reference_probs(Path(p)) for p in paths)
    mean = (p0 + p1) / 2
    target = tmp_path / "cm.png"
    assert main(["eval", LENET, "--ensemble", *paths, "--confusion", str(target)]) == 0
    table = capsys.readouterr().out
    assert "ensemble of 2" in table and paths[1] in table
    result = evaluate(LENET, paths)
    assert [m.name for m in result.members] == paths
    for member, probs in zip(result.members, (p0, p1)):
        assert member.top1 == pytest.approx(np.mean(probs.argmax(1) == labels), abs=1 / 360)
    assert result.ensemble.top1 == pytest.approx(np.mean(mean.argmax(1) == labels), abs=1 / 360)
    nll = -np.mean(np.log(mean[np.arange(len(labels)), labels]))
    assert result.ensemble.loss == pytest.approx(nll, rel=1e-3)
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_eval_refuses_another_network_naming_both(runs: list[Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    resnet = str(ARCHS / "resnet20_cifar.arch")
    rc = main(["eval", resnet, "--checkpoint", str(runs[0] / "last.pt")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert f"{runs[0] / 'last.pt'} is a checkpoint of network `lenet5` of {LENET} (num_classes=10)" in err
    assert f"not of network `resnet20_cifar` of {resnet}" in err
    # a network without the checkpoint's parameters: still both names, and why it does not compile
    fixed = tmp_path / "fixed.arch"
    fixed.write_text("network fixed : 1x32x32 = 5x5:6 -> gap -> fc:10\n")
    rc = main(["eval", str(fixed), "--checkpoint", str(runs[0] / "last.pt")])
    err = capsys.readouterr().err
    assert rc == 1 and "is a checkpoint of network `lenet5`" in err
    assert f"{fixed} with its parameters does not compile" in err and "num_classes" in err


def test_eval_refuses_truncated_and_foreign_files(runs: list[Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    whole = (runs[0] / "last.pt").read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(whole[: len(whole) // 2])
    assert main(["eval", LENET, "--checkpoint", str(cut)]) == 1
    assert f"{cut}: not a readable checkpoint: the file is truncated" in capsys.readouterr().err
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    assert main(["eval", LENET, "--checkpoint", str(foreign)]) == 1
    assert "not a checkpoint written by `cnndsl train`" in capsys.readouterr().err
    assert main(["eval", LENET, "--checkpoint", str(runs[0] / "last.pt"), "--confusion", "x.svg"]) == 1
    assert "written as .png" in capsys.readouterr().err
    assert not list(tmp_path.glob("confusion*"))
