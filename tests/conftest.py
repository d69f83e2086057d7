"""Shared fixtures. Tests that need torch import it themselves; static tests must not."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "archs"


@pytest.fixture
def write_arch(tmp_path):
    """Write `.arch` text to a file and return its path (diagnostics need a file name)."""
    def write(text: str, name: str = "test.arch") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write


@pytest.fixture(scope="module")
def one_torch_thread():
    """The suite shares two cores: for many small convolutions one torch thread avoids the
    oversubscription that makes them an order of magnitude slower."""
    import torch  # here, not at the top: static tests must be able to run without importing torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
