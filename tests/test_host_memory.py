"""A training run keeps the memory its steps free, so no step faults the same pages in again."""

import platform
import subprocess
import sys
import textwrap

import pytest

from ganbuilder.spec import load_spec
from ganbuilder.train import trainer as trainer_module

GLIBC = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"

# In a fresh process, with glibc's own policy or after keep_freed_memory: take and free 96 MiB
# in four blocks and print how much of it the process gave back to the system, in MiB.
SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    import torch
    from ganbuilder.train.host_memory import keep_freed_memory

    def resident() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    if sys.argv[1] == "keep":
        assert keep_freed_memory()
    blocks = [torch.ones(6 << 20) for _ in range(4)]
    before = resident()
    del blocks
    print((before - resident()) / 2**20)
""")


def given_back(policy: str) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT, policy], capture_output=True,
                         text=True, timeout=120, check=True)
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's (elsewhere nothing changes)")
def test_freed_memory_stays_with_the_process():
    assert given_back("default") > 80  # glibc's own: given back, to be faulted in anew
    assert given_back("keep") < 8


def test_a_training_run_keeps_freed_memory(tmp_path, minimal_spec, monkeypatch):
    calls = []
    monkeypatch.setattr(trainer_module, "keep_freed_memory", lambda: calls.append(1))
    trainer_module.Trainer(load_spec(minimal_spec), tmp_path / "run", steps=1).run()
    assert calls == [1]
