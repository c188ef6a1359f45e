"""Tests for the image-to-image translation sources: paired, unpaired and the digit built-ins.

Shapes, ranges and sampler resume for every source are covered in test_data.py (its CASES); this
file checks what is specific to translation: A/B alignment, independence, splits and errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.data import open_source, tensor_shapes
from ganbuilder.data.digits import N_TEST, NUM_DIGITS, split_indices
from ganbuilder.data.digits2negative import domain_indices
from ganbuilder.errors import DataError
from tests.conftest import expect_data_error, write_pair

HERE = Path(".")


def augmented(src, index: int, n: int = 16, seed: int = 0) -> dict:
    """n augmented copies of item `index`, as the training sampler would produce them."""
    return src.batch(torch.full((n,), index), torch.Generator().manual_seed(seed))


# --- paired ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["aligned", "folders"])
def test_paired_crop_and_flip_are_shared_by_a_and_b(pair_dirs, layout):
    # B = 255 - A in every file, so a pair that got the same crop and flip has real_B == -real_A.
    cfg = {"source": "paired", "root": str(pair_dirs / layout), "image_size": 7, "load_size": 12}
    src = open_source(cfg, HERE)
    out = augmented(src, 1)
    assert torch.allclose(out["real_B"], -out["real_A"], atol=1e-6)
    # The crops and flips really vary (so the check above is not about one fixed crop).
    assert len(torch.unique(out["real_A"].flatten(1), dim=0)) > 4
    sampled = src.sampler(3, seed=0).next()
    assert torch.allclose(sampled["real_B"], -sampled["real_A"], atol=1e-6)


def test_paired_aligned_split_phase_and_direction(pair_dirs):
    root = pair_dirs / "aligned"
    cfg = {"source": "paired", "root": str(root), "image_size": 12, "flip": False}
    batch = open_source(cfg, HERE).fixed_batch(5)
    left = np.asarray(Image.open(root / "train" / "p0.png"))[:, :12]
    want = torch.from_numpy(left.copy()).permute(2, 0, 1).float() * (2 / 255) - 1
    assert torch.allclose(batch["real_A"][0], want, atol=1e-6)  # A is the left half, untouched
    swapped = open_source({**cfg, "direction": "BtoA"}, HERE).fixed_batch(5)
    assert torch.equal(swapped["real_A"], batch["real_B"])
    assert torch.equal(swapped["real_B"], batch["real_A"])
    assert len(open_source({**cfg, "phase": "test"}, HERE)) == 1
    # root may point at the image folder itself.
    assert len(open_source({**cfg, "root": str(root / "train")}, HERE)) == 5


def test_paired_folders_match_by_name(pair_dirs):
    src = open_source({"source": "paired", "root": str(pair_dirs / "folders")}, HERE)
    assert [(a.name, b.name) for a, b in src.pairs] == [
        (f"x{i}.png", f"x{i}.bmp") for i in range(4)
    ]


def test_paired_errors(tmp_path):
    write_pair(np.zeros((4, 4, 3), np.uint8), tmp_path / "ok" / "p.png")
    expect_data_error(
        {"source": "paired", "root": "ok", "image_size": 8, "load_size": 4},
        tmp_path,
        "data.load_size",
        "load_size (4) must be at least image_size (8)",
    )
    with pytest.raises(DataError) as info:
        tensor_shapes({"source": "paired", "root": "x", "image_size": 8, "load_size": 4})
    assert info.value.problems[0].path == "data.load_size"
    for side in "AB":
        (tmp_path / "two" / side).mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(tmp_path / "two" / side / "same.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "two" / "A" / "lonely.png")
    expect_data_error(
        {"source": "paired", "root": "two"},
        tmp_path,
        "data.root",
        str(tmp_path / "two" / "A" / "lonely.png"),
        "no partner in",
    )
    (tmp_path / "one" / "A").mkdir(parents=True)
    expect_data_error(
        {"source": "paired", "root": "one"},
        tmp_path,
        "data.root",
        f"but not {tmp_path / 'one' / 'B'}",
    )
    Image.new("RGB", (6, 6)).save(tmp_path / "square.png")
    expect_data_error(
        {"source": "paired", "root": str(tmp_path / "square.png")},
        tmp_path,
        "data.root",
        "data folder not found",
    )
    (tmp_path / "sq").mkdir()
    Image.new("RGB", (6, 6)).save(tmp_path / "sq" / "s.png")
    expect_data_error({"source": "paired", "root": "sq"}, tmp_path, "data.root", "side by side")
    (tmp_path / "none").mkdir()
    expect_data_error({"source": "paired", "root": "none"}, tmp_path, "data.root", "no images")


# --- unpaired -------------------------------------------------------------------------------


def ids(batch: dict) -> tuple[list[int], list[int]]:
    """Which image each item is: A images are gray 10 * (i + 1), B images 100 + 10 * i."""
    a = ((batch["real_A"].mean((1, 2, 3)) + 1) * 127.5 / 10 - 1).round().long().tolist()
    b = (((batch["real_B"].mean((1, 2, 3)) + 1) * 127.5 - 100) / 10).round().long().tolist()
    return a, b


def test_unpaired_sides_are_drawn_independently(pair_dirs):
    cfg = {"source": "unpaired", "root": str(pair_dirs / "unpaired"), "image_size": 5}
    src = open_source(cfg, HERE)
    assert (src.size_A, src.size_B, len(src)) == (6, 4, 6)
    sampler = src.sampler(2, seed=3)
    drawn = [ids(sampler.next()) for _ in range(6)]  # two passes over A, three over B
    seq_A = [i for a, _ in drawn for i in a]
    seq_B = [i for _, b in drawn for i in b]
    assert sorted(seq_A[:6]) == sorted(seq_A[6:]) == list(range(6))
    for start in (0, 4, 8):  # each pass over B is a permutation of B
        assert sorted(seq_B[start : start + 4]) == list(range(4))
    assert [i % 4 for i in seq_A] != seq_B  # B does not follow A's order
    assert ids(src.fixed_batch(6)) == ([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 0, 1])

    serial = open_source({**cfg, "serial": True}, HERE).sampler(3, seed=3)
    for _ in range(4):
        a, b = ids(serial.next())
        assert b == [i % 4 for i in a]

    swapped = open_source({**cfg, "direction": "BtoA"}, HERE)
    assert (swapped.size_A, swapped.size_B) == (4, 6)


def test_unpaired_missing_or_empty_side(tmp_path):
    (tmp_path / "trainA").mkdir()
    for i in range(2):
        Image.new("RGB", (4, 4)).save(tmp_path / "trainA" / f"{i}.png")
    expect_data_error(
        {"source": "unpaired", "root": "."},
        tmp_path,
        "data.root",
        f"no images found in {tmp_path.resolve() / 'trainB'}",
    )
    (tmp_path / "trainB").mkdir()
    (tmp_path / "trainB" / "notes.txt").write_text("x")
    expect_data_error(
        {"source": "unpaired", "root": "."},
        tmp_path,
        "data.root",
        f"no images found in {tmp_path.resolve() / 'trainB'}",
    )
    expect_data_error(
        {"source": "unpaired", "root": ".", "phase": "test"},
        tmp_path,
        "data.root",
        f"no images found in {tmp_path.resolve() / 'testA'}",
    )
    expect_data_error(
        {"source": "unpaired", "root": ".", "image_size": 9, "load_size": 8},
        tmp_path,
        "data.load_size",
    )


def test_two_domain_sampler_state_checks_the_b_side(pair_dirs, tmp_path):
    cfg = {"source": "unpaired", "root": str(pair_dirs / "unpaired"), "image_size": 5}
    sampler = open_source(cfg, HERE).sampler(3, seed=0)
    sampler.next()
    torch.save(sampler.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    state["perm_B"] = torch.arange(5)
    with pytest.raises(DataError, match="B side of 5 items"):
        open_source(cfg, HERE).sampler(3, seed=0).load_state_dict(state)


# --- built-in digit tasks -----------------------------------------------------------------


def test_digit_splits_are_fixed_and_disjoint():
    train, test = split_indices("train"), split_indices("test")
    assert (len(train), len(test)) == (NUM_DIGITS - N_TEST, N_TEST) == (1438, 359)
    assert not set(train.tolist()) & set(test.tolist())
    assert sorted(train.tolist() + test.tolist()) == list(range(NUM_DIGITS))
    assert torch.equal(split_indices("test"), test)  # the same every time
    half_A, half_B = domain_indices("train")
    assert len(half_A) == len(half_B) == 719
    assert not set(half_A.tolist()) & set(half_B.tolist())
    assert set(half_A.tolist()) | set(half_B.tolist()) == set(train.tolist())
    test_A, test_B = domain_indices("test")
    assert torch.equal(test_A, test) and torch.equal(test_B, test)


def test_digit_sources_use_the_held_out_split():
    held_out = open_source({"source": "digits", "split": "test"}, HERE)
    assert len(open_source({"source": "digits", "split": "train"}, HERE)) == 1438
    assert len(open_source({"source": "digits"}, HERE)) == 1797  # `all` stays the default
    digits = held_out.fixed_batch(359)
    edges = open_source({"source": "edges2digits", "split": "test"}, HERE).fixed_batch(359)
    assert torch.equal(edges["real_B"], digits["real"])
    assert torch.equal(edges["label"], digits["label"])


def test_edges2digits_outlines_the_digit():
    src = open_source({"source": "edges2digits"}, HERE)
    assert (src.num_classes, src.class_names) == (10, [str(d) for d in range(10)])
    batch = src.fixed_batch(32)
    edges, digit = batch["real_A"], batch["real_B"]
    assert set(edges.unique().tolist()) == {-1.0, 1.0}  # a binary map
    on = edges > 0
    assert 0.05 < on.float().mean() < 0.4  # lines, not filled shapes
    # Outline pixels sit on the digit's boundary: both inside and outside are within one pixel.
    inside = torch.nn.functional.max_pool2d((digit > 0).float(), 3, 1, 1) > 0
    background = torch.nn.functional.pad((digit <= 0).float(), (1, 1, 1, 1), value=1.0)
    outside = torch.nn.functional.max_pool2d(background, 3, 1) > 0  # beyond the border counts
    assert bool((inside & outside)[on].all())
    assert torch.equal(batch["label"], src.tensors["label"][:32])


def test_digits2negative_domains_differ_in_style_only():
    src = open_source({"source": "digits2negative", "split": "test"}, HERE)
    assert (src.num_classes, len(src.class_names)) == (10, 10)
    batch = src.fixed_batch(64)  # on the test split both sides hold the same digits in order
    assert torch.equal(batch["label_A"], batch["label_B"])
    a, b = batch["real_A"], batch["real_B"]
    assert a.mean() < -0.2 and b.mean() > 0.2  # dark background vs light background
    assert bool((a[..., 0, 0] == -1).all() and (b[..., 0, 0] == 1).all())  # corners
    assert bool((b <= -a + 1e-6).all())  # B is the inverse of a thickened A
    assert (-b > 0).float().mean() > 1.3 * (a > 0).float().mean()  # thicker strokes
    train = open_source({"source": "digits2negative"}, HERE)
    assert (train.size_A, train.size_B) == (719, 719)
    first = train.sampler(8, seed=0).next()
    assert not torch.equal(first["label_A"], first["label_B"])
