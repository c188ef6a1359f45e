"""Label maps for SPADE: the `labelmaps` source (images/ + labels/ folders, one-hot made per
item, dontcare and instance edges) and the built-in `labels2digits` task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.data import open_source, tensor_shapes
from ganbuilder.data.labelmaps import instance_edges, label_input
from ganbuilder.errors import DataError
from tests.labelmap_files import COLOURS, write_labelmaps


def _cfg(root: Path, **more) -> dict:
    return {"source": "labelmaps", "root": str(root), "classes": 3, "image_size": 8,
            "flip": False, **more}


def test_one_hot_follows_the_label_files_with_dontcare_as_one_more_class(tmp_path):
    write_labelmaps(tmp_path, dontcare=255)
    src = open_source(_cfg(tmp_path, dontcare=255, image_size=6, load_size=8, flip=True),
                      tmp_path)
    assert tensor_shapes(_cfg(tmp_path, dontcare=255))["seg"] == [4, 8, 8]
    batch = src.sampler(5, seed=3).next()  # random crops and flips
    seg = batch["seg"]
    assert seg.shape == (5, 4, 6, 6) and torch.equal(seg.sum(1), torch.ones(5, 6, 6))
    # The image was painted from the ids: the crop and flip moved image and map together.
    colours = torch.tensor(COLOURS, dtype=torch.float32) * (2 / 255) - 1
    painted = colours[seg.argmax(1)].permute(0, 3, 1, 2)
    assert (batch["real"] - painted).abs().max() < 0.02
    ids = np.asarray(Image.open(tmp_path / "labels" / "0.png"))
    fixed = src.fixed_batch(1)["seg"][0]  # no augmentation: the centre crop of file 0
    expected = np.where(ids == 255, 3, ids)[1:7, 1:7]
    assert np.array_equal(fixed.argmax(0).numpy(), expected)


def test_a_label_beyond_the_declared_classes_names_the_file(tmp_path):
    write_labelmaps(tmp_path, classes=3, dontcare=None)
    Image.fromarray(np.full((8, 8), 7, np.uint8), "L").save(tmp_path / "labels" / "2.png")
    src = open_source(_cfg(tmp_path), tmp_path)
    with pytest.raises(DataError) as err:
        src.batch(torch.arange(5), None)
    problem = err.value.problems[0]
    assert problem.path == "data.classes"
    assert "2.png holds label 7, but data.classes is 3 (ids 0..2)" in problem.message


def test_dontcare_value_is_refused_when_not_declared(tmp_path):
    write_labelmaps(tmp_path, dontcare=255)
    src = open_source(_cfg(tmp_path), tmp_path)
    with pytest.raises(DataError, match="holds label 255"):
        src.batch(torch.arange(5), None)


@pytest.mark.parametrize(("remove", "message"), [
    ("labels/3.png", "3.png has no partner in"),
    ("images/1.png", "1.png has no partner in"),
])
def test_a_file_without_its_partner_is_named(tmp_path, remove, message):
    write_labelmaps(tmp_path)
    (tmp_path / remove).unlink()
    with pytest.raises(DataError, match=message):
        open_source(_cfg(tmp_path, dontcare=255), tmp_path)


def test_a_missing_folder_and_an_rgb_label_map_are_explained(tmp_path):
    with pytest.raises(DataError, match="labels is not a folder"):
        (tmp_path / "images").mkdir()
        open_source(_cfg(tmp_path), tmp_path)
    write_labelmaps(tmp_path / "rgb", dontcare=None)
    Image.new("RGB", (8, 8)).save(tmp_path / "rgb" / "labels" / "0.png")
    src = open_source(_cfg(tmp_path / "rgb", bad_images="fail"), tmp_path)
    with pytest.raises(DataError, match="is a RGB image; a label map holds one class id"):
        src.batch(torch.arange(2), None)


def test_instance_edges_add_a_channel_where_neighbouring_ids_differ(tmp_path):
    write_labelmaps(tmp_path, dontcare=None, instances=True)
    batch = open_source(_cfg(tmp_path, instances=True), tmp_path).fixed_batch(2)
    edges = batch["seg"][:, 3]
    # instances are column pairs 0-1, 2-3, ...: columns 1|2, 3|4, 5|6 are edges on both sides
    assert torch.equal(edges[0, 0], torch.tensor([0, 1, 1, 1, 1, 1, 1, 0.0]))
    assert instance_edges(torch.zeros(1, 3, 3, dtype=torch.long)).sum() == 0


def test_labels2digits_maps_classes_to_their_colours():
    src = open_source({"source": "labels2digits", "split": "test", "image_size": 32}, Path("."))
    assert len(src) == 359
    batch = src.fixed_batch(64)
    ids, real = batch["seg"].argmax(1), batch["real"]
    assert torch.equal(batch["seg"].sum(1), torch.ones(64, 32, 32))
    shares = torch.stack([(ids == c).float().mean() for c in range(4)])
    assert (shares > 0.05).all()  # sky, ground, stroke and halo all present
    # ground and halo are flat colours; the stroke's brightness varies with the digit
    assert real.permute(0, 2, 3, 1)[ids == 1].std(0).max() < 1e-6
    assert real.permute(0, 2, 3, 1)[ids == 2].std(0).max() > 0.1


def test_a_label_file_becomes_the_models_seg_input(tmp_path):
    write_labelmaps(tmp_path, dontcare=255, size=4)
    data = {"source": "labelmaps", "classes": 3, "dontcare": 255, "instances": False,
            "image_size": 8}
    seg = label_input(tmp_path / "labels" / "1.png", data)
    ids = np.asarray(Image.open(tmp_path / "labels" / "1.png"))
    assert seg.shape == (4, 8, 8)  # nearest resize: each label pixel becomes 2x2
    assert np.array_equal(seg.argmax(0).numpy()[::2, ::2], np.where(ids == 255, 3, ids))
    with pytest.raises(DataError, match="holds label 255"):
        label_input(tmp_path / "labels" / "1.png", {**data, "dontcare": None})
