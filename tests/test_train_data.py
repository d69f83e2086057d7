"""`--data`: CIFAR batches read as torchvision reads them, ImageFolder trees, digits, and the
per-sample augmentation that makes batches independent of how they are split across processes."""
from __future__ import annotations

import csv
import pickle
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from cnndsl import CnnDslError
from cnndsl.train import fit
from cnndsl.train.datasets import open_data
from cnndsl.train.loader import Images, resized_crop_box
from train_fixtures import (
    ARCHS,
    LENET,
    TINY,
    write_cifar10,
    write_cifar100,
    write_image_folder,
)


@pytest.fixture
def torchvision_cifar(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """torchvision's own CIFAR readers, with the MD5 checks of the real files switched off (the
    fixtures are generated), as the independent reference for ours."""
    from torchvision.datasets import cifar
    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
    return cifar


@pytest.mark.parametrize("kind", ["cifar10", "cifar100"])
def test_cifar_reads_as_torchvision_does(tmp_path: Path, torchvision_cifar: ModuleType, kind: str) -> None:
    root = write_cifar10(tmp_path) if kind == "cifar10" else write_cifar100(tmp_path)
    cls = torchvision_cifar.CIFAR10 if kind == "cifar10" else torchvision_cifar.CIFAR100
    source = open_data(str(root))
    for split, train in ((source.train, True), (source.val, False)):
        ref = cls(str(root), train=train, download=False)
        assert np.array_equal(split.array, ref.data.transpose(0, 3, 1, 2))  # theirs is HWC, ours CHW
        assert split.labels.tolist() == ref.targets
    assert source.classes == ref.classes
    folder = "cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python"
    assert open_data(str(root / folder)).train.labels.tolist() == source.train.labels.tolist()


def test_cifar_batches_are_loaded_without_running_code(tmp_path: Path) -> None:
    root = write_cifar10(tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (eval, (f"open({str(marker)!r}, 'w')",))
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(pickle.dumps({"data": Evil(), "labels": []}))
    with pytest.raises(CnnDslError, match="data_batch_3: not a readable CIFAR batch.*refusing to load builtins.eval"):
        open_data(str(root))
    assert not marker.exists()


def test_cifar_and_image_folder_train_one_epoch(tmp_path: Path, one_torch_thread: None) -> None:
    """CIFAR-10 through ResNet-20 (batch norm, 3x32x32), CIFAR-100 through LeNet-5 (1 channel, 100
    classes set through num_classes), an ImageFolder through a 3x96x96 network (random-resized crops)."""
    cifar10 = write_cifar10(tmp_path / "c10")
    cifar100 = write_cifar100(tmp_path / "c100")
    folder = write_image_folder(tmp_path / "folder")
    (tmp_path / "tiny.arch").write_text(TINY)
    cases = [("archs/resnet20_cifar.arch", cifar10, 10), (LENET, cifar100, 100), (tmp_path / "tiny.arch", folder, 2)]
    for arch, data, classes in cases:
        out = tmp_path / f"run-{data.name}"
        result = fit(arch, data=str(data), epochs=1, out=str(out), progress=True)  # tqdm's bar, to stderr
        assert result.network.num_classes == classes
        rows = list(csv.DictReader((out / "metrics.csv").open()))
        assert len(rows) == 1 and 0 <= float(rows[0]["val_acc"]) <= 1
        assert np.isfinite(float(rows[0]["train_loss"]))
        assert (out / "last.pt").is_file() and (out / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_loader_processes_change_nothing(tmp_path: Path, one_torch_thread: None) -> None:
    """Each sample's augmentation is its own: two worker processes give the same run as none."""
    states = []
    for workers in (0, 2):
        fit(LENET, data="digits", epochs=1, workers=workers, out=str(tmp_path / str(workers)), progress=False)
        states.append(torch.load(tmp_path / str(workers) / "last.pt", weights_only=True)["model"])
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_image_folder_lists_classes_and_converts_channels(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path, classes=("b", "a", "c"), train=2, val=1)
    source = open_data(str(root))
    assert source.classes == ["a", "b", "c"] and len(source.train) == 6 and len(source.val) == 3
    grey = Images(source, source.val, (1, 32, 32), train=False)
    x, y = grey[0]
    assert x.shape == (1, 32, 32) and y == 0
    big = Images(source, source.train, (3, 96, 96), train=True, flip=True, seed=0)
    assert big[5][0].shape == (3, 96, 96) and big[5][1] == 2


def test_digits_split_is_fixed_stratified_and_resized() -> None:
    from sklearn.datasets import load_digits
    source = open_data("digits")
    assert len(source.train) + len(source.val) == len(load_digits().target) == 1797
    assert len(source.val) == 360 and not source.flip
    assert np.bincount(source.val.labels).min() >= 35  # stratified: 10% of the validation set per class
    assert np.array_equal(open_data("digits").val.labels, source.val.labels)
    x, _ = Images(source, source.val, (1, 32, 32), train=False)[0]
    assert x.shape == (1, 32, 32)


def test_augmentation_depends_on_seed_epoch_and_index_only() -> None:
    source = open_data("digits")
    a = Images(source, source.train, (1, 32, 32), train=True, seed=3)
    b = Images(source, source.train, (1, 32, 32), train=True, seed=3)
    torch.manual_seed(123)  # the global generator plays no part
    for i in (0, 7, 500):
        assert torch.equal(a[i][0], b[i][0])
    a.set_epoch(1)
    shifted = sum(not torch.equal(a[i][0], b[i][0]) for i in range(40))
    assert shifted >= 30  # 25 crops: a new epoch moves nearly every sample
    # every crop offset of 2 pixels of padding occurs, and no flip of the digits
    plain = Images(source, source.train, (1, 32, 32), train=False)
    offsets = set()
    for epoch in range(300):  # 25 offsets, each 1/25: 300 draws miss one with p < 1e-9
        a.set_epoch(epoch)
        offsets.add(_offset(a[0][0], plain[0][0]))
    assert offsets == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}


@pytest.mark.parametrize("train, flip", [(True, False), (True, True), (False, False)])
def test_a_batch_at_once_equals_its_images_one_by_one(train: bool, flip: bool) -> None:
    source = open_data("digits")
    data = Images(source, source.train, (1, 32, 32), train=train, flip=flip, seed=5)
    data.set_epoch(2)
    indices = [4, 900, 17, 4, 1200, 63]
    for (x, y), i in zip(data.__getitems__(indices), indices, strict=True):
        ref, label = data[i]
        assert torch.equal(x, ref) and y == label


def test_a_cifar_batch_at_once_equals_its_images_one_by_one(tmp_path: Path) -> None:
    source = open_data(str(write_cifar10(tmp_path)))
    data = Images(source, source.train, (3, 32, 32), train=True, flip=True, seed=1)
    indices = list(range(0, 60, 7))
    for (x, y), i in zip(data.__getitems__(indices), indices, strict=True):
        assert torch.equal(x, data[i][0]) and y == data[i][1]


def _offset(augmented: torch.Tensor, plain: torch.Tensor) -> tuple[int, int] | None:
    """The shift that turns the plain image into the augmented one (inside the uncropped part)."""
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            shifted = plain[:, 2 - dy:30 - dy, 2 - dx:30 - dx]
            if torch.allclose(augmented[:, 2:30, 2:30], shifted, atol=1e-5):
                return dy, dx
    return None


def test_resized_crop_box_follows_torchvision_bounds() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = resized_crop_box(60, 80, rng)
        assert top >= 0 and top + h <= 60 and left >= 0 and left + w <= 80
        assert 0.08 * 4800 * 0.9 <= h * w <= 4800 and 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1


@pytest.mark.parametrize("spec, message", [
    ("no/such/folder", "no such folder"),
    (LENET, "not a folder"),
    (str(ARCHS), "neither a CIFAR folder"),
])
def test_bad_data_specs_say_what_data_takes(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(CnnDslError, match=message) as exc:
        open_data(str(tmp_path / spec) if spec.startswith("no/") else spec)
    assert "digits" in str(exc.value) and "ImageFolder" in str(exc.value)


def test_image_folder_needs_val_with_known_classes(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path, train=1, val=1)
    (root / "val" / "emu").mkdir()
    (root / "val" / "cat" / "0.png").rename(root / "val" / "emu" / "0.png")
    with pytest.raises(CnnDslError, match="val/ has classes train/ lacks: emu"):
        open_data(str(root))
    shutil.rmtree(root / "val")
    with pytest.raises(CnnDslError, match="no val/ folder"):
        open_data(str(root))
