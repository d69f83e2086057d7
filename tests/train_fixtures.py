"""Shared helpers of the training tests: running the CLI in a subprocess, and tiny datasets written
in the on-disk formats `--data` reads (CIFAR batches, ImageFolder trees)."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "archs"
LENET = str(ARCHS / "lenet5.arch")
TINY = """network tiny(num_classes=2) : 3x96x96 = 3x3:8/4 -> bn -> relu -> gap -> fc:num_classes\n"""


def cli_env() -> dict[str, str]:
    """This checkout first on the path (not whichever cnndsl pip installed); one thread a process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo")
    env.pop("CNNDSL_DEBUG", None)
    return env


def run_cli(*args: str, timeout: float = 120, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnndsl", *args], check=False, capture_output=True, text=True,
                          timeout=timeout, env=cli_env(), cwd=cwd)


def write_cifar10(root: Path, per_batch: int = 12, seed: int = 0) -> Path:
    """torchvision's CIFAR-10 layout: cifar-10-batches-py/ with five data batches, a test batch and
    batches.meta, each a pickled dict (labels as a list, data as N x 3072 uint8, channel-major)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {"batch_label": name, "labels": rng.integers(0, 10, per_batch).tolist(),
                 "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "filenames": [f"{name}_{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                            "truck"], "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def write_cifar100(root: Path, n_train: int = 40, n_test: int = 20, seed: int = 1) -> Path:
    """cifar-100-python/ with train, test and meta; labels under fine_labels and coarse_labels."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, n in (("train", n_train), ("test", n_test)):
        entry = {"fine_labels": rng.integers(0, 100, n).tolist(), "coarse_labels": rng.integers(0, 20, n).tolist(),
                 "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=4))
    meta = {"fine_label_names": [f"class{i}" for i in range(100)],
            "coarse_label_names": [f"super{i}" for i in range(20)]}
    (folder / "meta").write_bytes(pickle.dumps(meta, protocol=4))
    return root


def write_image_folder(root: Path, classes: tuple[str, ...] = ("cat", "dog"), train: int = 12, val: int = 4,
                       size: tuple[int, int] = (50, 40), seed: int = 2) -> Path:
    """train/CLASS/*.png and val/CLASS/*.png, RGB, of one size (not the network's)."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("val", val)):
        for c in classes:
            folder = root / split / c
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return root
