"""Several ranks under torchrun (gloo, 2 processes on the CPU): the same weights as one process,
exact resume, one run folder, one message on failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from ganbuilder.train.distributed import Ranks

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
SMALL = ["--set", "params.ngf=8", "--set", "params.ndf=8", "--set", "params.nz=16",
         "--set", "params.image_size=16", "--quiet"]

# wgan_gp's layer-norm critic and gradient penalty, with a generator without batch norm: its
# per-rank statistics would differ from a single process's by design.
NO_BATCH_NORM = """\
extends: {wgan_gp}
name: wgan_gp_no_bn
networks:
  G:
    init: {{normal: 0.02}}
    layers:
      - conv_transpose: {{out: 16, kernel: 4, bias: false}}
      - relu
      - conv_transpose: {{out: 8, kernel: 4, stride: 2, padding: 1}}
      - relu
      - conv_transpose: {{out: "${{nc}}", kernel: 4, stride: 2, padding: 1}}
      - tanh
"""


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def _torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", "-m", "ganbuilder", "run", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT,
                          timeout=300)


def _ganbuilder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganbuilder", *args], capture_output=True,
                          text=True, env=_env(), cwd=ROOT, timeout=300)


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr[-3000:]


def _networks(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(path, weights_only=True)["networks"]


def test_two_ranks_of_32_match_one_process_of_64(tmp_path):
    spec = tmp_path / "no_bn.yaml"
    spec.write_text(NO_BATCH_NORM.format(wgan_gp=SPECS / "wgan_gp.yaml"), encoding="utf-8")
    args = [str(spec), *SMALL, "--set", "data.batch_size=64", "--steps", "3"]
    _ok(_torchrun(*args, "--out", str(tmp_path / "two")))
    _ok(_ganbuilder("run", *args, "--out", str(tmp_path / "one")))
    two = _networks(tmp_path / "two" / "checkpoints" / "last.pt")
    one = _networks(tmp_path / "one" / "checkpoints" / "last.pt")
    start = torch.load(tmp_path / "one" / "checkpoints" / "last.pt", weights_only=True)
    assert start["step"] == 3
    for net in one:
        for key, value in one[net].items():
            # 15 critic and 3 generator steps of Adam: float sums in another order only.
            torch.testing.assert_close(two[net][key], value, rtol=1e-4, atol=2e-5,
                                       msg=f"{net}.{key}")
    # The steps did move the weights: the comparison is not between two untrained models.
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1  # rank 0 alone writes, one line per logged step


def test_sync_batch_norm_over_two_ranks_matches_one_process(tmp_path):
    # DCGAN's batch norms in G and D normalize over the global batch (gloo, on the CPU).
    args = ["specs/dcgan.yaml", *SMALL, "--set", "data.batch_size=32", "--steps", "3"]
    _ok(_torchrun(*args, "--set", "training.sync_batch_norm=true",
                  "--out", str(tmp_path / "two")))
    _ok(_ganbuilder("run", *args, "--out", str(tmp_path / "one")))
    two = torch.load(tmp_path / "two" / "checkpoints" / "last.pt", weights_only=True)
    one = _networks(tmp_path / "one" / "checkpoints" / "last.pt")
    for net in one:
        for key, value in one[net].items():
            torch.testing.assert_close(two["networks"][net][key].float(), value.float(),
                                       rtol=1e-4, atol=2e-5, msg=f"{net}.{key}")
    mean = "1.running_mean"  # the same statistics on both ranks
    assert torch.equal(two["ranks"][0]["buffers"]["G"][mean], two["ranks"][1]["buffers"]["G"][mean])


def test_dcgan_with_batch_norm_under_two_ranks_resumes_exactly(tmp_path):
    args = ["specs/dcgan.yaml", *SMALL, "--set", "data.batch_size=32",
            "--set", "training.checkpoint_every=2"]
    _ok(_torchrun(*args, "--steps", "4", "--out", str(tmp_path / "straight")))
    _ok(_torchrun(*args, "--steps", "2", "--out", str(tmp_path / "split")))
    first = torch.load(tmp_path / "split" / "checkpoints" / "last.pt", weights_only=True)
    assert first["world_size"] == 2 and len(first["ranks"]) == 2
    # Each rank keeps its own batch-norm statistics (its share of the batch differs).
    mean = "1.running_mean"
    assert not torch.equal(first["ranks"][0]["buffers"]["G"][mean],
                           first["ranks"][1]["buffers"]["G"][mean])
    _ok(_torchrun(*args, "--steps", "4", "--resume",
                  str(tmp_path / "split" / "checkpoints" / "last.pt")))
    straight = torch.load(tmp_path / "straight" / "checkpoints" / "last.pt", weights_only=True)
    resumed = torch.load(tmp_path / "split" / "checkpoints" / "last.pt", weights_only=True)
    for net, tensors in straight["networks"].items():
        for key, value in tensors.items():
            assert torch.equal(resumed["networks"][net][key], value), f"{net}.{key}"
    for a, b in zip(straight["ranks"], resumed["ranks"], strict=True):
        for net, buffers in a["buffers"].items():
            for key, value in buffers.items():
                assert torch.equal(b["buffers"][net][key], value), f"{net}.{key}"


def test_nproc_writes_one_run_folder_that_resumes_on_one_process(tmp_path):
    out = tmp_path / "run"
    result = _ganbuilder("run", "specs/dcgan.yaml", *SMALL, "--nproc", "2", "--steps", "20",
                         "--out", str(out))
    _ok(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [m["step"] for m in logged]
    assert steps == sorted(set(steps)) and steps[-1] == 20  # rank 0 alone writes the log
    assert all("time/data" in m and "time/step" in m for m in logged)
    _ok(_ganbuilder("run", "specs/dcgan.yaml", *SMALL, "--steps", "24",
                    "--resume", str(out / "checkpoints" / "last.pt")))
    assert torch.load(out / "checkpoints" / "last.pt", weights_only=True)["step"] == 24


def test_a_batch_that_does_not_split_is_one_message(tmp_path):
    message = ("error: data.batch_size 33 does not split over 2 processes; choose a multiple of "
               "2 (data.batch_size is the global batch, shared out among the ranks)")
    args = ["specs/dcgan.yaml", *SMALL, "--set", "data.batch_size=33", "--steps", "2"]
    launched = _ganbuilder("run", *args, "--nproc", "2", "--out", str(tmp_path / "a"))
    assert launched.returncode == 2
    assert launched.stderr.strip() == message
    # Under torchrun itself each rank finds it; rank 0 alone says so (torchrun then reports
    # the exit codes in its own words).
    direct = _torchrun(*args, "--out", str(tmp_path / "b"))
    assert direct.returncode != 0
    assert [line for line in direct.stderr.splitlines() if line.startswith("error:")] == [message]


def test_divergence_on_the_ranks_is_one_message_and_keeps_the_good_checkpoint(tmp_path):
    out = tmp_path / "r"
    _ok(_ganbuilder("run", "specs/dcgan.yaml", *SMALL, "--steps", "2", "--out", str(out)))
    good = out / "checkpoints" / "last.pt"
    before = _networks(good)
    # Continued in 2 ranks with an absurd learning rate: the weights overflow within steps.
    result = _ganbuilder("run", "specs/dcgan.yaml", *SMALL, "--nproc", "2", "--steps", "10",
                         "--set", "training.optimizer.adam.lr=1.0e30", "--resume", str(good))
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "training diverged" in errors[0], result.stderr
    assert f"the last good checkpoint is {good}" in errors[0]
    assert "Traceback" not in result.stderr
    after = _networks(good)
    for net, tensors in before.items():
        for key, value in tensors.items():
            assert torch.equal(after[net][key], value)


def test_one_rank_shards_nothing_and_averages_nothing():
    ranks = Ranks()
    batch = {"real": torch.arange(8.0)}
    assert torch.equal(ranks.shard(batch)["real"], batch["real"])
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    ranks.average_gradients([p])
    assert torch.equal(p.grad, torch.full((3,), 2.0))


def test_a_rank_takes_its_contiguous_share():
    assert Ranks(1, 4).share(32) == slice(8, 16)
    shards = [Ranks(r, 2).shard({"x": torch.arange(6)})["x"] for r in range(2)]
    assert torch.equal(torch.cat(shards), torch.arange(6))


def test_ctrl_c_on_the_launcher_stops_every_rank_after_one_step_and_saves(tmp_path):
    out = tmp_path / "r"
    loud = [a for a in SMALL if a != "--quiet"]  # the progress lines say where it stopped
    cmd = [sys.executable, "-m", "ganbuilder", "run", "specs/dcgan.yaml", *loud, "--nproc",
           "2", "--steps", "100000", "--set", "training.log_every=2", "--out", str(out)]
    # Its own session, as a terminal's foreground group: Ctrl-C reaches launcher and ranks.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ((out / "metrics.jsonl").is_file()
                   and (out / "metrics.jsonl").read_text().count("\n") >= 2):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert err.count("stopping after this step") == 1
    stopped = [line for line in err.splitlines() if line.startswith("stopped at step")]
    assert len(stopped) == 1, err[-3000:]
    step = int(stopped[0].split()[3].rstrip(";"))
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == step and len(state["ranks"]) == 2
