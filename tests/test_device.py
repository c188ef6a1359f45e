"""Devices this torch build lacks are one clear message; under torchrun `cuda` is the local
rank's GPU."""

from __future__ import annotations

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.device import pick_device, torch_build
from ganbuilder.errors import UserError


@pytest.mark.parametrize("name", ["cuda", "cuda:1", "mps"])
def test_a_device_this_build_lacks_is_one_message_and_exit_2(name, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: False)
    code = main(["run", "specs/gan.yaml", "--device", name, "--steps", "1",
                 "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --device {name}: "), err
    assert f"torch {torch.__version__} (CPU only) is installed" in lines[0]
    assert "--device cpu" in lines[0]  # what to do instead
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_the_build_is_named():
    assert torch_build().startswith(f"torch {torch.__version__} (")


def test_a_cuda_build_without_a_visible_gpu_says_so(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match=r"CUDA 12\.4\) is installed but it sees no CUDA device"):
        pick_device("cuda")


def _two_gpus(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_cuda_under_torchrun_is_the_local_ranks_gpu(monkeypatch):
    _two_gpus(monkeypatch)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert pick_device("cuda") == torch.device("cuda", 1)
    assert pick_device("auto") == torch.device("cuda", 1)
    assert pick_device("cuda:0") == torch.device("cuda", 0)  # an index given stays
    monkeypatch.delenv("LOCAL_RANK")
    assert pick_device("cuda") == torch.device("cuda", 0)


def test_a_gpu_index_past_the_last_is_refused(monkeypatch):
    _two_gpus(monkeypatch)
    with pytest.raises(UserError, match=r"cuda:2 does not exist; this machine has 2 CUDA "
                                        r"device\(s\), cuda:0\.\.cuda:1"):
        pick_device("cuda:2")
    monkeypatch.setenv("LOCAL_RANK", "3")
    with pytest.raises(UserError, match=r"cuda:3 \(local rank 3\) does not exist"):
        pick_device("cuda")


def test_a_misspelt_device_is_refused_in_the_spec_too(tmp_path, capsys):
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError, match="not a device"):
        pick_device("gpu")
    assert main(["validate", "specs/gan.yaml", "--set", "training.device=cuda:0"]) == 0
    capsys.readouterr()
    assert main(["validate", "specs/gan.yaml", "--set", "training.device=gpu"]) == 2
    assert "training.device" in capsys.readouterr().err
