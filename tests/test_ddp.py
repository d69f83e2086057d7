"""Training at scale on an existing engine: a compiled zoo network under torchrun with two
processes and DistributedDataParallel (gloo, CPU, loopback) ends with the parameters of one
process trained on the same global batch. LeNet-5 has neither batch norm nor dropout, whose
per-process statistics and draws would differ by design."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from zoo import ARCHS

SCRIPT = Path(__file__).parent / "scripts" / "ddp_steps.py"


def test_two_processes_under_torchrun_equal_one(tmp_path):
    arch = str(ARCHS / "lenet5.arch")
    single = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "one.pt"), arch],
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          str(SCRIPT), str(tmp_path / "two.pt"), arch],
                         capture_output=True, text=True, timeout=300)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one = torch.load(tmp_path / "one.pt", weights_only=True)
    two = torch.load(tmp_path / "two.pt", weights_only=True)
    start = torch.load(tmp_path / "one.pt", weights_only=True)  # keys and shapes agree
    assert one.keys() == two.keys() == start.keys()
    for key in one:
        torch.testing.assert_close(two[key], one[key], atol=1e-5, rtol=0)
