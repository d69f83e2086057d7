"""What a run leaves beside its checkpoints: metrics.csv, curves.png, the `.arch` text, run.json
(parameters, recipe, command), and `cnndsl eval`'s confusion matrix. Every file is written through
a temporary file and `os.replace`, so none is ever left half-written."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..cli import write_atomic
from ..diagnostics import CnnDslError

COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


def write_metrics(path: Path, history: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: _cell(row[k]) for k in COLUMNS})
    write_atomic(path, lambda tmp: tmp.write_text(buf.getvalue()))


def _cell(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


def write_run_files(out: Path, arch: str, info: dict[str, Any]) -> None:
    """The `.arch` text as trained (under its own name) and run.json."""
    source = Path(arch)
    write_atomic(out / source.name, lambda tmp: tmp.write_text(source.read_text()))
    write_atomic(out / "run.json", lambda tmp: tmp.write_text(json.dumps(info, indent=2, default=str) + "\n"))


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise CnnDslError.from_message("the curves and confusion matrices need matplotlib "
                                       "(pip install 'cnndsl[train]')") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    return plt


def write_curves(path: Path, history: list[dict[str, Any]], title: str) -> None:
    """Loss and accuracy per epoch, training and validation, side by side."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (loss, acc) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, key, label in ((loss, "loss", "loss"), (acc, "acc", "accuracy")):
        ax.plot(epochs, [r[f"train_{key}"] for r in history], marker=".", label="train")
        ax.plot(epochs, [r[f"val_{key}"] for r in history], marker=".", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    acc.set_ylim(0, 1)
    fig.suptitle(title)
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def write_confusion(path: Path, matrix: Any, classes: list[str], title: str) -> None:
    """Rows: true class; columns: predicted class; each cell a count, coloured by its row's share."""
    plt = _pyplot()
    n = len(classes)
    totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
    side = min(20, max(4, 0.45 * n + 2))
    fig, ax = plt.subplots(figsize=(side, side), layout="constrained")
    ax.imshow(matrix / totals, cmap="Blues", vmin=0, vmax=1)
    if n <= 30:  # beyond that the labels and counts are unreadable; the colours still tell
        ax.set_xticks(range(n), classes, rotation=90)
        ax.set_yticks(range(n), classes)
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8,
                            color="white" if matrix[i, j] / totals[i, 0] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
