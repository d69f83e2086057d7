"""Checkpoints: written atomically, read with `weights_only=True`, and refused, with the reason and
both names, when they are truncated, not ours, or of another network.

A checkpoint holds only tensors, numbers, strings, lists and dicts: the model's, optimizer's,
schedule's and loss scaler's state, the RNG states, the epoch, the metrics so far, the resolved
recipe, and the network's identity (`Network.identity`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..cli import write_atomic
from ..diagnostics import CnnDslError
from .network import Network, build

FORMAT = "cnndsl-train/1"
LAST, BEST = "last.pt", "best.pt"


def save(path: Path, state: dict[str, Any]) -> None:
    """Through a temporary file and `os.replace`: a run killed while saving leaves the previous
    checkpoint whole."""
    write_atomic(Path(path), lambda tmp: torch.save({"format": FORMAT, **state}, tmp))


def read(path: str | Path) -> dict[str, Any]:
    """A checkpoint's contents, or a one-paragraph error; loads no code (`weights_only=True`)."""
    path = Path(path)
    if not path.is_file():
        raise CnnDslError.from_message(f"{path}: no such checkpoint" + (" (a folder)" if path.is_dir() else ""))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - RuntimeError, UnpicklingError, EOFError, ...: all mean unreadable
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CnnDslError.from_message(
            f"{path}: not a readable checkpoint: the file is truncated, damaged or not a PyTorch checkpoint "
            f"written by `cnndsl train` (torch.load said: {reason})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CnnDslError.from_message(f"{path}: a PyTorch file, but not a checkpoint written by `cnndsl train` "
                                       f"(no {FORMAT!r} format mark)")
    return state


def check_identity(state: dict[str, Any], path: str | Path, net: Network) -> None:
    """Refuse a checkpoint of another network, naming both and the first tensor that differs."""
    theirs, ours = state["identity"], net.identity()
    if theirs["tensors"] == ours["tensors"] and theirs["num_classes"] == ours["num_classes"]:
        return
    mine = {k: s for k, s in ours["tensors"]}
    other = {k: s for k, s in theirs["tensors"]}
    diff = next((f"`{k}` is {s} there but {mine.get(k, 'absent')} here"
                 for k, s in other.items() if mine.get(k) != s), None) \
        or next((f"`{k}` ({s}) is absent there" for k, s in mine.items() if k not in other), "")
    raise CnnDslError.from_message(
        f"{path} is a checkpoint of network `{theirs['network']}` of {theirs['arch']} "
        f"({_args(theirs['params'])}), not of {net.describe()}: their tensors differ ({diff}); "
        "pass the .arch file and -D values the checkpoint was trained with")


def build_for(state: dict[str, Any], path: str | Path, arch: str, params: dict[str, Any], *,
              input: tuple[int, ...] | None, network: str | None, num_classes: int) -> Network:
    """`arch` built with the parameters the checkpoint was trained with (those in `params` win),
    and checked to be the checkpoint's network."""
    theirs = state["identity"]
    try:
        net = build(arch, {**json.loads(theirs["params"]), **params}, network=network, num_classes=num_classes,
                    input=input or tuple(theirs["input_shape"]))
    except CnnDslError as exc:
        raise CnnDslError.from_message(
            f"{path} is a checkpoint of network `{theirs['network']}` of {theirs['arch']} "
            f"({_args(theirs['params'])}); {arch} with its parameters does not compile:\n{exc.format()}") from None
    check_identity(state, path, net)
    return net


def _args(params_json: str) -> str:
    params = json.loads(params_json)
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "no parameters"


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
