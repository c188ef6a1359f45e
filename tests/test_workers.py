"""data.workers: image files decoded in worker processes, one batch ahead, with the same batches,
weights and resume as in one process; time/data logged; the CLI's note when data is slow."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.cli import _DataWaitNotice
from ganbuilder.data import open_source
from ganbuilder.data.loader import default_workers
from ganbuilder.spec import load_spec
from ganbuilder.train.events import StepMetrics
from ganbuilder.train.trainer import Trainer


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """40 random 20x20 RGB images in two class folders."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(40):
        folder = root / ("cats" if i % 2 else "dogs")
        folder.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(
            folder / f"{i}.png")
    return root


def _cfg(root, **extra) -> dict:
    # Random crops (load 20, crop 16) and flips: each item's augmentation is random.
    return {"source": "folder", "root": str(root), "image_size": 16, "load_size": 20,
            "flip": True, "batch_size": 8, **extra}


def _batches(root, workers: int, n: int, share: slice | None = None) -> list[dict]:
    sampler = open_source(_cfg(root), root).sampler(8, seed=3)
    sampler.share = share
    sampler.use_workers(workers)
    try:
        return [sampler.next() for _ in range(n)]
    finally:
        sampler.close()


def _equal(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            assert torch.equal(x[key], y[key]), key


def test_batches_are_the_same_for_any_number_of_workers(images):
    # 12 batches of 8 from 40 images: two epochs and a half, so new permutations too.
    none = _batches(images, 0, 12)
    _equal(none, _batches(images, 2, 12))
    _equal(none, _batches(images, 3, 12))
    assert not torch.equal(none[0]["real"], none[1]["real"])


def test_rank_shares_of_a_batch_make_the_whole_batch(images):
    whole = _batches(images, 0, 3)
    halves = [_batches(images, w, 3, slice(r * 4, r * 4 + 4)) for r, w in ((0, 0), (1, 2))]
    for i, batch in enumerate(whole):
        for key in batch:
            assert torch.equal(torch.cat([halves[0][i][key], halves[1][i][key]]), batch[key])


def test_a_batch_made_ahead_is_not_in_the_saved_state(images):
    source = open_source(_cfg(images), images)
    ahead = source.sampler(8, seed=3)
    ahead.use_workers(2)
    ahead.next()
    state = ahead.state_dict()  # a second batch is being made meanwhile
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    later = source.sampler(8, seed=99)
    later.load_state_dict(torch.load(buffer, weights_only=True))
    _equal([ahead.next(), ahead.next()], [later.next(), later.next()])
    ahead.close()


def _train(root, tmp_path, name: str, workers: int, steps: int, resume: bool = False):
    spec = load_spec("specs/dcgan.yaml", [
        "params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8", "params.nc=3",
        "data.source=folder", f"data.root={root}", "data.load_size=20", "data.flip=true",
        "data.batch_size=8", f"data.workers={workers}", "training.log_every=1",
        "training.sample_every=1000"])
    run = tmp_path / name
    trainer = Trainer(spec, run, device="cpu", steps=steps,
                      resume=run / "checkpoints" / "last.pt" if resume else None)
    events = []
    trainer.run(events.append)
    weights = {f"{n}.{k}": v for n, net in trainer.gan.nets.items()
               for k, v in net.state_dict().items()}
    return weights, [e.metrics for e in events if isinstance(e, StepMetrics)]


def test_weights_and_resume_are_the_same_with_workers(images, tmp_path):
    none, metrics = _train(images, tmp_path, "w0", 0, 6)
    two, _ = _train(images, tmp_path, "w2", 2, 6)
    _train(images, tmp_path, "split", 2, 3)
    resumed, _ = _train(images, tmp_path, "split", 2, 6, resume=True)
    for key, value in none.items():
        assert torch.equal(two[key], value), key
        assert torch.equal(resumed[key], value), key
    assert all(0 <= m["time/data"] <= m["time/step"] for m in metrics)


def test_auto_workers_follow_the_device():
    assert default_workers("cpu") == 0
    assert 1 <= default_workers("cuda") <= 8


def test_the_cli_names_data_workers_once_when_data_is_slow(capsys):
    seen = []
    notice = _DataWaitNotice(seen.append, quiet=False)
    fast = {"time/step": 0.1, "time/data": 0.01}
    slow = {"time/step": 0.1, "time/data": 0.05}
    for metrics in [slow, fast, slow, slow]:  # a streak of 2: not yet
        notice(StepMetrics(1, metrics))
    assert "data.workers" not in capsys.readouterr().err
    for _ in range(4):
        notice(StepMetrics(1, slow))
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "50 ms of each 100 ms step" in notes[0]
    assert "data.workers" in notes[0]
    assert len(seen) == 8  # every event still reaches the progress display


def test_unpaired_batches_are_the_same_with_workers(tmp_path):
    # CycleGAN's layout: A and B of different sizes, B in its own random order.
    rng = np.random.default_rng(1)
    for side, n in (("trainA", 7), ("trainB", 5)):
        (tmp_path / side).mkdir()
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(
                tmp_path / side / f"{i}.png")
    cfg = {"source": "unpaired", "root": str(tmp_path), "image_size": 16, "load_size": 20,
           "batch_size": 4}
    made = []
    for workers in (0, 2):
        sampler = open_source(cfg, tmp_path).sampler(4, seed=5)
        sampler.use_workers(workers)
        made.append([sampler.next() for _ in range(6)])
        sampler.close()
    _equal(made[0], made[1])
    assert set(made[0][0]) == {"real_A", "real_B"}
