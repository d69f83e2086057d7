"""`--data SPEC`: where the images come from. Three kinds, read as they lie on disk, never downloaded:

* `digits`: scikit-learn's bundled 8x8 handwritten digits (1,797 images), split 80/20, stratified,
  with a fixed seed, so every run and every ensemble member sees the same validation images;
* a CIFAR-10 or CIFAR-100 folder in torchvision's on-disk format (`cifar-10-batches-py/` or
  `cifar-100-python/`, or the folder itself); the test batch is the validation set;
* an ImageFolder directory: `train/CLASS/*.png` and `val/CLASS/*.png`.

Readers give images at their native size (uint8, or float in [0, 1] for digits) and labels; the
sizing to the network's input and the augmentation are in `loader.py`.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..diagnostics import CnnDslError

FORMS = ("`digits`, a CIFAR-10/100 folder in torchvision's format (cifar-10-batches-py/ or "
         "cifar-100-python/), or an ImageFolder directory with train/ and val/ subfolders of one folder per class")

# ImageNet's channel statistics (the torchvision convention) for image folders, which would have to
# be read in full to compute their own; luminance-weighted for one channel.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
IMAGENET_GREY_MEAN, IMAGENET_GREY_STD = (0.449,), (0.226,)


@dataclass
class Split:
    """Images in memory (an N x C x H x W array) or as files (paths, decoded when used)."""

    labels: np.ndarray
    array: np.ndarray | None = None
    paths: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Source:
    """A dataset: both splits, class names, and what the loader must know to size and augment it."""

    name: str
    kind: str  # "digits", "cifar" or "folder"
    classes: list[str]
    train: Split
    val: Split
    channels: int  # native channels (folders: decoded to whatever the network takes)
    flip: bool  # whether a horizontal flip leaves an image of the same class
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def padding(self, side: int) -> int:
        """Random-crop padding at a network input of `side` pixels: He et al.'s 4 for 32 (side/8);
        for digits half a pixel of the 8x8 original (side/16), since they fill their frame."""
        return side // 16 if self.kind == "digits" else side // 8


def open_data(spec: str) -> Source:
    if spec == "digits":
        return _digits()
    root = Path(spec).expanduser()
    if not root.exists():
        raise CnnDslError.from_message(f"--data {spec}: no such folder; --data takes {FORMS}")
    if not root.is_dir():
        raise CnnDslError.from_message(f"--data {spec}: not a folder; --data takes {FORMS}")
    if (root / "train").is_dir():
        return _image_folder(root, spec)
    for folder in (root, root / "cifar-10-batches-py", root / "cifar-100-python"):
        if (folder / "data_batch_1").is_file() or (folder / "train").is_file():
            return _cifar(folder, spec)
    raise CnnDslError.from_message(
        f"--data {spec}: neither a CIFAR folder (no data_batch_1 or train file) nor an ImageFolder "
        f"directory (no train/ subfolder); --data takes {FORMS}")


def _digits() -> Source:
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise CnnDslError.from_message(
            "--data digits needs scikit-learn (pip install scikit-learn, or pip install 'cnndsl[train]')") from None
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0..16
    labels = bunch.target.astype(np.int64)
    xt, xv, yt, yv = train_test_split(images, labels, test_size=0.2, stratify=labels, random_state=0)
    return Source("digits", "digits", [str(c) for c in range(10)], Split(yt, xt), Split(yv, xv), 1,
                  flip=False, mean=(float(xt.mean()),), std=(float(xt.std()),))


class _ArraysOnly(pickle.Unpickler):
    """CIFAR batches are pickles; a pickle can run code. Allow only what numpy arrays need."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.numeric", "_frombuffer"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR batch holds only arrays")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            entry = _ArraysOnly(f, encoding="latin1").load()
    except FileNotFoundError:
        raise CnnDslError.from_message(f"{path}: missing from the CIFAR folder {path.parent}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged pickle fails in many ways, each unreadable
        raise CnnDslError.from_message(f"{path}: not a readable CIFAR batch ({exc})") from None
    if not isinstance(entry, dict):
        raise CnnDslError.from_message(f"{path}: not a CIFAR batch (a {type(entry).__name__}, not a dict)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}


def _cifar_split(folder: Path, names: list[str], label_key: str) -> Split:
    data, labels = [], []
    for name in names:
        entry = _unpickle(folder / name)
        if "data" not in entry or label_key not in entry:
            raise CnnDslError.from_message(f"{folder / name}: a CIFAR batch needs `data` and `{label_key}`")
        data.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.extend(entry[label_key])
    return Split(np.asarray(labels, dtype=np.int64), np.concatenate(data))


def _cifar(folder: Path, spec: str) -> Source:
    if (folder / "data_batch_1").is_file():  # CIFAR-10
        train = _cifar_split(folder, [f"data_batch_{i}" for i in range(1, 6)], "labels")
        val = _cifar_split(folder, ["test_batch"], "labels")
        meta, key, name = "batches.meta", "label_names", "CIFAR-10"
    else:
        train = _cifar_split(folder, ["train"], "fine_labels")
        val = _cifar_split(folder, ["test"], "fine_labels")
        meta, key, name = "meta", "fine_label_names", "CIFAR-100"
    count = int(max(train.labels.max(), val.labels.max())) + 1
    classes = [str(c) for c in _unpickle(folder / meta).get(key, [])] if (folder / meta).is_file() else []
    if len(classes) < count:
        classes = [str(c) for c in range(count)]
    assert train.array is not None  # _cifar_split reads arrays
    pixels = train.array.reshape(len(train), 3, -1)
    mean = tuple(float(m) / 255 for m in pixels.mean(axis=(0, 2)))
    std = tuple(float(s) / 255 for s in pixels.std(axis=(0, 2)))
    return Source(f"{name} at {spec}", "cifar", classes, train, val, 3, flip=True, mean=mean, std=std)


def _image_folder(root: Path, spec: str) -> Source:
    from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset
    if not (root / "val").is_dir():
        raise CnnDslError.from_message(f"--data {spec}: has train/ but no val/ folder; an ImageFolder "
                                       "directory needs both, each with one folder per class")
    try:
        classes, index = find_classes(root / "train")
        train = make_dataset(root / "train", index, IMG_EXTENSIONS)
        val_classes, _ = find_classes(root / "val")
        val = make_dataset(root / "val", index, IMG_EXTENSIONS, allow_empty=True)
    except (FileNotFoundError, OSError) as exc:
        raise CnnDslError.from_message(f"--data {spec}: {exc}") from None
    extra = sorted(set(val_classes) - set(classes))
    if extra:
        raise CnnDslError.from_message(f"--data {spec}: val/ has classes train/ lacks: {', '.join(extra)}")
    if not val:
        raise CnnDslError.from_message(f"--data {spec}: val/ holds no images ({', '.join(IMG_EXTENSIONS)})")

    def split(samples: list[tuple[str, int]]) -> Split:
        return Split(np.asarray([c for _, c in samples], dtype=np.int64), paths=[p for p, _ in samples])
    return Source(f"ImageFolder {spec}", "folder", classes, split(train), split(val), 3, flip=True)
