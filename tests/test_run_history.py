"""Reading run folders back (the app's Runs view) and animated sample exports."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from ganbuilder.errors import UserError
from ganbuilder.runs.grid import load_png, save_gif, save_png
from ganbuilder.runs.history import read_run


def write_run(run_dir, records, sample_steps=(0, 50, 100), tail=""):
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / "spec.yaml").write_text("version: 1\nname: mygan\n", encoding="utf-8")
    lines = "".join(json.dumps(r) + "\n" for r in records)
    (run_dir / "metrics.jsonl").write_text(lines + tail, encoding="utf-8")
    for step in sample_steps:
        save_png(np.full((4, 4, 3), step % 256, np.uint8),
                 run_dir / "samples" / f"step_{step:06d}.png")
    return run_dir


def test_reads_metrics_and_samples(tmp_path):
    run = write_run(tmp_path / "r1", [{"step": 25, "loss/D": 1.0},
                                      {"step": 50, "loss/D": 0.5, "loss/Q": 2.0}])
    history = read_run(run)
    assert history.name == "mygan" and history.label == "mygan · r1"
    assert history.metrics.steps == [25, 50]
    assert history.metrics.columns["loss/D"] == [1.0, 0.5]
    assert math.isnan(history.metrics.columns["loss/Q"][0])  # not logged at step 25
    assert [s for s, _ in history.samples] == [0, 50, 100]
    assert history.sample_at(75)[0] == 50 and history.sample_at(100)[0] == 100
    assert history.sample_at(-1)[0] == 0


def test_a_cut_off_last_record_is_ignored(tmp_path):
    run = write_run(tmp_path / "r", [{"step": 25, "loss/D": 1.0}], tail='{"step": 50, "lo')
    assert read_run(run).metrics.steps == [25]


def test_a_damaged_record_names_the_line(tmp_path):
    run = write_run(tmp_path / "r", [{"step": 25}], tail="garbage\n{\"step\": 75}\n")
    with pytest.raises(UserError, match=r"metrics.jsonl:2: not a metrics record"):
        read_run(run)


def test_a_folder_without_metrics_is_not_a_run(tmp_path):
    with pytest.raises(UserError, match="not a run folder"):
        read_run(tmp_path)


def test_gif_holds_every_grid_in_order(tmp_path):
    grids = [np.full((6, 8, 3), v, np.uint8) for v in (0, 120, 250)]
    grids.append(np.full((10, 8, 3), 60, np.uint8))  # a bigger grid: frames are padded
    path = tmp_path / "anim.gif"
    save_gif(grids, path, frame_ms=100)
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.info["loop"] == 0
        gif.seek(1)
        frame = np.asarray(gif.convert("RGB"))
        assert frame.shape == (10, 8, 3)
        assert (frame[:6] == 120).all() and (frame[6:] == 255).all()


def test_png_round_trip(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    save_png(image, tmp_path / "g.png")
    assert (load_png(tmp_path / "g.png") == image).all()
