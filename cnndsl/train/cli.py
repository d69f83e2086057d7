"""`cnndsl train` and `cnndsl eval`. Registering them imports no torch; the handlers do."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cli import _common, _graph_args
from ..diagnostics import CnnDslError
from .config import SCHEDULES, TrainConfig


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}")
    return int(text)


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    p = sub.add_parser("train", help="train a network on a dataset (SGD, the lecture's recipe; torchrun for DDP)",
                       description="Train FILE's network. Options left out take the recipe's defaults "
                                   "(docs/training.md); with --resume, the run's saved values.")
    p.add_argument("file")
    _common(p)
    p.add_argument("--data", required=True, metavar="SPEC",
                   help="digits, a CIFAR-10/100 folder (torchvision's format), or an ImageFolder directory "
                        "with train/ and val/")
    g = p.add_argument_group("recipe (defaults: docs/training.md)")
    g.add_argument("--epochs", type=_count, help="default: 30 below 10k training images, 182 below 200k, else 90")
    g.add_argument("--batch-size", type=_count, help="global batch, all processes together (default: 128, or 256 "
                                                     "for inputs over 64 px, halved while an epoch has < 32 steps)")
    g.add_argument("--lr", type=float, help="initial learning rate (default: 0.1 x batch / 256 with batch norm, "
                                            "0.01 x batch / 128 without)")
    g.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    g.add_argument("--weight-decay", type=float, help="L2 weight decay (default 1e-4)")
    g.add_argument("--schedule", choices=SCHEDULES, help="step: lr/10 at 50%% and 75%%; cosine; plateau: lr/10 "
                                                          "when the validation loss stalls (default step)")
    g.add_argument("--warmup", type=_count, metavar="N", help="epochs of linear warmup from lr/10 (default 0)")
    g.add_argument("--label-smoothing", type=float, metavar="E", help="default 0")
    g.add_argument("--flip", action=argparse.BooleanOptionalAction,
                   help="random horizontal flips (default: yes, except for digits)")
    g.add_argument("--seed", type=_count, help="weights, shuffling and augmentation (default 0)")
    h = p.add_argument_group("hardware and output")
    h.add_argument("--amp", action="store_true", help="mixed precision: float16 on CUDA, bfloat16 on CPU")
    h.add_argument("--device", help="cpu or cuda (default: cuda when there is one)")
    h.add_argument("--channels-last", action=argparse.BooleanOptionalAction,
                   help="NHWC memory format (default: on CUDA only)")
    h.add_argument("--workers", type=_count, default=0, help="data-loading processes per training process (default 0)")
    h.add_argument("--threads", type=_count, help="torch CPU threads (default: torch's)")
    h.add_argument("--out", metavar="DIR", help="run folder (default: runs/<file name>, numbered if taken)")
    h.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")

    e = sub.add_parser("eval", help="top-1/top-5 and confusion matrix of checkpoints, alone and as an ensemble")
    e.add_argument("file")
    _common(e)
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("--checkpoint", metavar="C", help="a checkpoint written by cnndsl train")
    which.add_argument("--ensemble", nargs="+", metavar="C", help="several checkpoints: each, and their "
                                                                   "averaged softmax")
    e.add_argument("--data", metavar="SPEC", help="default: the data the (first) checkpoint was trained on")
    e.add_argument("--device", help="cpu or cuda (default: cuda when there is one)")
    e.add_argument("--batch-size", type=_count, default=256)
    e.add_argument("--confusion", metavar="FILE.png",
                   help="confusion matrix (default: confusion.png beside the (first) checkpoint)")
    e.add_argument("--json", action="store_true", help="print the scores and matrices as JSON")
    return {"train": cmd_train, "eval": cmd_eval}


def train_config(args: argparse.Namespace, argv: list[str] | None = None) -> TrainConfig:
    graph = _graph_args(args)
    return TrainConfig(
        arch=args.file, data=args.data, input=graph.pop("input"), network=graph.pop("network"), params=graph,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, schedule=args.schedule, warmup=args.warmup,
        label_smoothing=args.label_smoothing, flip=args.flip, seed=args.seed, amp=args.amp, device=args.device,
        channels_last=args.channels_last, out=args.out, resume=args.resume, workers=args.workers,
        threads=args.threads, command=["cnndsl", *(sys.argv[1:] if argv is None else argv)])


def cmd_train(args: argparse.Namespace) -> int:
    try:
        config = train_config(args)
        config.check()  # before torch is imported: a wrong option fails at once
        from .loop import run
        run(config)
    except CnnDslError:
        if os.environ.get("RANK", "0") != "0":  # under torchrun every rank meets the same error: rank 0 says it
            return 1
        raise
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .records import write_confusion
    from .scoring import evaluate, format_table
    params = _graph_args(args)
    shape, network = params.pop("input"), params.pop("network")
    checkpoints = args.ensemble or [args.checkpoint]
    target = Path(args.confusion) if args.confusion else Path(checkpoints[0]).parent / "confusion.png"
    if target.suffix.lower() != ".png":
        raise CnnDslError.from_message(f"--confusion {target}: the confusion matrix is written as .png")
    result = evaluate(args.file, checkpoints, data=args.data, params=params, input=shape, network=network,
                      device=args.device, batch_size=args.batch_size)
    best = result.ensemble or result.members[0]
    write_confusion(target, best.confusion, result.classes, f"{best.name}: top-1 {best.top1:.4f}")
    print(json.dumps(result.as_dict(), indent=2) if args.json else format_table(result))
    print(f"wrote {target}", file=sys.stderr)
    return 0

