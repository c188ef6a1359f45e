"""Evaluation: the project's own digit classifier, Fréchet distance, toy mode metrics and
`evaluate_checkpoint` on freshly trained checkpoints."""

import json
import math
import os

import numpy as np
import pytest
import torch

from ganbuilder.data import SOURCES
from ganbuilder.evaluate import classifier as clf_module
from ganbuilder.evaluate import evaluate_checkpoint
from ganbuilder.evaluate.classifier import digit_classifier, digit_data
from ganbuilder.evaluate.frechet import (
    frechet_distance,
    gaussian_stats,
    trace_sqrt_product,
    trace_sqrt_product_eig,
)
from ganbuilder.evaluate.images import (
    class_histogram_metrics,
    code_purity,
    conditional_accuracy,
    label_kept,
    paired_metrics,
    sample_metrics,
)
from ganbuilder.evaluate.toy2d import mixture, mode_metrics, toy2d_metrics
from ganbuilder.evaluate.translation import translation_tensors
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

TOY_KEYS = {"modes_covered", "modes_covered_at_1", "modes_total", "min_count", "mode_counts",
            "high_quality", "mode_kl"}


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """Trained classifiers go to a temporary cache, not the user's ~/.cache."""
    old = os.environ.get("GANBUILDER_CACHE")
    path = tmp_path_factory.mktemp("cache")
    os.environ["GANBUILDER_CACHE"] = str(path)
    clf_module._MEMORY.clear()
    yield path
    clf_module._MEMORY.clear()
    if old is None:
        os.environ.pop("GANBUILDER_CACHE", None)
    else:
        os.environ["GANBUILDER_CACHE"] = old


@pytest.fixture(scope="module")
def clf32(cache_dir):
    return digit_classifier(32)


def train(tmp_path, spec: str, overrides=(), steps: int = 5):
    run = Trainer(load_spec(f"specs/{spec}.yaml", list(overrides)), tmp_path / spec,
                  steps=steps).run()
    return run / "checkpoints" / "last.pt"


# --- classifier ---------------------------------------------------------------------------

def test_classifier_accuracy_and_api(clf32, cache_dir):
    assert clf32.accuracy >= 0.95
    data = digit_data(32)
    assert data.test_images.shape[1:] == (1, 32, 32) and len(data.test_images) > 300
    assert clf32.predict(data.test_images[:7]).shape == (7,)
    assert clf32.features(data.test_images[:7]).shape == (7, clf_module.FEATURES)
    probs = clf32.probabilities(data.test_images[:7])
    assert torch.allclose(probs.sum(1), torch.ones(7))
    # Other sizes and channel counts are resized / converted on the way in.
    rgb64 = torch.nn.functional.interpolate(data.test_images[:50], size=64).expand(-1, 3, -1, -1)
    assert (clf32.predict(rgb64) == data.test_labels[:50]).float().mean() >= 0.9
    assert list(cache_dir.glob("classifiers/digits-s32-c1-*.pt"))


def test_classifier_cache_survives_corruption(cache_dir):
    data = digit_data(32)
    x, y = data.train_images[:200], data.train_labels[:200]
    first = digit_classifier(32, domain="tiny", train_images=x, train_labels=y)
    (path,) = cache_dir.glob("classifiers/tiny-s32-c1-*.pt")
    clf_module._MEMORY.clear()
    again = digit_classifier(32, domain="tiny", train_images=x, train_labels=y)
    assert again.accuracy == first.accuracy  # read back from the file
    path.write_bytes(b"not a checkpoint")
    clf_module._MEMORY.clear()
    retrained = digit_classifier(32, domain="tiny", train_images=x, train_labels=y)
    assert retrained.accuracy == first.accuracy  # seeded: the same network again
    assert torch.equal(retrained.predict(x[:20]), first.predict(x[:20]))
    torch.load(path, weights_only=True)  # and the file was replaced by a good one


# --- Fréchet distance ---------------------------------------------------------------------

def test_frechet_distance_of_a_set_with_itself_is_zero_and_shifts_grow():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 8))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, x + 0.5) == pytest.approx(8 * 0.25, rel=1e-6)
    assert frechet_distance(x, x + 1.0) > frechet_distance(x, x + 0.5) > 0
    assert frechet_distance(torch.from_numpy(x), x * 2) > 0


def test_frechet_distance_matches_the_1d_gaussian_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 2.0, size=400), rng.normal(-0.5, 0.5, size=300)
    m1, s1 = a.mean(), a.std(ddof=1)
    m2, s2 = b.mean(), b.std(ddof=1)
    assert frechet_distance(a[:, None], b[:, None]) == pytest.approx(
        (m1 - m2) ** 2 + (s1 - s2) ** 2, rel=1e-9)


def test_matrix_square_root_paths_agree():
    rng = np.random.default_rng(2)
    s1 = np.cov(rng.normal(size=(40, 12)), rowvar=False)
    s2 = np.cov(rng.normal(size=(30, 12)) * 3, rowvar=False)
    assert trace_sqrt_product(s1, s2) == pytest.approx(trace_sqrt_product_eig(s1, s2), rel=1e-6)
    mu, cov = gaussian_stats(rng.normal(size=(10, 3)))
    assert mu.shape == (3,) and cov.shape == (3, 3)


# --- toy 2D mixtures ----------------------------------------------------------------------

def test_ring8_points_on_every_mode():
    means, std = mixture("ring8")
    assert means.shape == (8, 2) and std == 0.01
    m = toy2d_metrics(np.repeat(means, 10, axis=0), "ring8")
    assert m["modes_covered"] == 8 and m["modes_total"] == 8 and m["min_count"] == 10
    assert m["mode_counts"] == [10] * 8
    assert m["high_quality"] == 100.0 and m["mode_kl"] == pytest.approx(0.0)


def test_a_mode_counts_from_ten_high_quality_samples():
    means, std = mixture("ring8")
    # 9 samples on mode 0, 10 on mode 1, one on mode 2, and 5 off every mode near mode 3
    points = np.concatenate([np.repeat(means[:1], 9, axis=0), np.repeat(means[1:2], 10, axis=0),
                             means[2:3], np.repeat(means[3:4] + 4 * std, 5, axis=0)])
    m = toy2d_metrics(points, "ring8")
    assert m["modes_covered"] == 1 and m["modes_covered_at_1"] == 3
    assert m["mode_counts"] == [9, 10, 1, 0, 0, 0, 0, 0]
    assert m["high_quality"] == pytest.approx(100 * 20 / 25)
    assert toy2d_metrics(points, "ring8", min_count=1)["modes_covered"] == 3


def test_collapsed_and_off_mode_points():
    means, std = mixture("ring8")
    collapsed = toy2d_metrics(np.tile(means[3], (100, 1)) + 0.5 * std, "ring8")
    assert collapsed["modes_covered"] == 1 and collapsed["high_quality"] == 100.0
    assert collapsed["mode_kl"] == pytest.approx(math.log(8))
    off = toy2d_metrics(np.zeros((50, 2)), "ring8")  # the ring's centre: on no mode
    assert off["modes_covered"] == 0 and off["high_quality"] == 0.0
    half = mode_metrics(np.array([[1.0, 0.0], [1.0 + 4 * std, 0.0]]), means, std, min_count=1)
    assert half["high_quality"] == 50.0 and half["modes_covered"] == 1
    grid_means, _ = mixture("grid25")
    assert toy2d_metrics(np.repeat(grid_means, 10, axis=0), "grid25")["modes_covered"] == 25


# --- image metrics ------------------------------------------------------------------------

def test_real_digits_score_well_and_noise_does_not(clf32):
    data = digit_data(32)
    real = sample_metrics(data.test_images, clf32, data.train_images)
    noise = sample_metrics(torch.rand(500, 1, 32, 32, generator=torch.Generator().manual_seed(0))
                           * 2 - 1, clf32, data.train_images)
    assert real["fd"] < 2.0
    assert noise["fd"] > 10 * real["fd"] + 5
    assert real["digit_score"] > 0.8 and noise["digit_score"] < 0.4
    assert real["classes_covered"] == 10 and real["class_kl"] < 0.05
    assert noise["entropy"] > real["entropy"]


def test_histogram_accuracy_and_translation_metrics(clf32):
    one = class_histogram_metrics(torch.full((100,), 3), range(10))
    assert one["classes_covered"] == 1 and one["class_kl"] == pytest.approx(math.log(10))
    assert one["class_share/3"] == 1.0 and one["class_share/0"] == 0.0  # which class it draws
    spread = class_histogram_metrics(torch.arange(100) % 10, range(10))
    assert spread["classes_covered"] == 10 and spread["class_kl"] == pytest.approx(0.0)
    assert class_histogram_metrics(torch.arange(10), [0, 1])["off_class"] == pytest.approx(0.8)

    data = digit_data(32)
    acc = conditional_accuracy(data.test_images, data.test_labels, clf32)
    assert acc["class_accuracy"] > 0.9 and {f"class_accuracy/{d}" for d in range(10)} <= set(acc)
    assert label_kept(data.test_images, data.test_labels, clf32) == pytest.approx(clf32.accuracy)

    same = paired_metrics(data.test_images, data.test_images)
    assert same == {"l1": 0.0, "psnr": 100.0}
    flipped = paired_metrics(-data.test_images, data.test_images)
    assert flipped["l1"] > 0.1 and flipped["psnr"] < 20


def test_code_purity_finds_each_codes_digit(clf32):
    data = digit_data(32)
    codes = (data.test_labels + 3) % 10  # code k draws digit k - 3
    result = code_purity(data.test_images, codes, clf32)
    assert result["code_digits"] == [(k - 3) % 10 for k in range(10)]
    assert result["distinct_digits"] == 10
    assert result["code_purity"] == pytest.approx(clf32.accuracy, abs=0.01)
    merged = code_purity(data.test_images, codes // 2, clf32)  # 5 codes, two digits each
    assert merged["distinct_digits"] == 5 and 0.4 < merged["code_purity"] < 0.6
    assert set(merged) == {"code_purity", "code_digits", "distinct_digits"} | {
        f"code_purity/{k}" for k in range(5)}


def test_translation_tensors_are_found_in_shipped_specs():
    for name, expected in [("pix2pix", {"AB": "fake_B"}),
                           ("cyclegan", {"AB": "fake_B", "BA": "fake_A"})]:
        data = load_spec(f"specs/{name}.yaml").tree["data"]["source"]
        if data not in SOURCES:
            pytest.skip(f"data source {data} not available yet")
        assert translation_tensors(load_spec(f"specs/{name}.yaml")) == expected
    assert translation_tensors(load_spec("specs/gan_ring8.yaml")) == {}


# --- evaluate_checkpoint ------------------------------------------------------------------

def test_evaluate_ring8_checkpoint(tmp_path):
    result = evaluate_checkpoint(train(tmp_path, "gan_ring8"), n=500, seed=1)
    assert result["kind"] == "toy2d" and result["step"] == 5 and result["n"] == 500
    assert set(result) >= TOY_KEYS
    assert result["modes_total"] == 8 and 0 <= result["modes_covered"] <= 8
    json.dumps(result, allow_nan=False)
    assert evaluate_checkpoint(tmp_path / "gan_ring8" / "checkpoints" / "last.pt", n=500,
                               seed=1)["high_quality"] == result["high_quality"]
    by_default = evaluate_checkpoint(tmp_path / "gan_ring8" / "checkpoints" / "last.pt")
    assert by_default["n"] == 2500 and sum(by_default["mode_counts"]) <= 2500  # PacGAN's count


MLP_DIGITS = """
version: 1
name: mlp_digits
data: {source: digits, image_size: 32, batch_size: 32}
latent:
  z: {dist: normal, shape: [8]}
networks:
  G:
    layers: [{linear: 1024}, tanh, {reshape: [1, 32, 32]}]
  D:
    layers: [flatten, {linear: 1}]
forward:
  fake: G(z)
objectives:
  D:
    updates: [D]
    loss:
      - adversarial: {critic: D, real: real, fake: fake}
  G:
    updates: [G]
    loss:
      - adversarial: {critic: D, fake: fake}
training: {steps: 2, log_every: 1, sample_every: 100, checkpoint_every: 100}
"""


def test_evaluate_digit_generators(tmp_path, write_spec, clf32):
    run = Trainer(load_spec(write_spec(MLP_DIGITS)), tmp_path / "mlp").run()
    plain = evaluate_checkpoint(run / "checkpoints" / "last.pt", n=100)
    assert plain["kind"] == "digits" and plain["classifier_accuracy"] == clf32.accuracy
    assert {"fd", "fd_real", "digit_score", "classes_covered", "class_kl"} <= set(plain)
    assert plain["fd"] > plain["fd_real"]  # an untrained generator is far from real digits
    small = ["params.image_size=32", "training.log_every=100", "training.sample_every=100"]
    cgan = evaluate_checkpoint(train(tmp_path, "cgan", small, steps=2), n=100)
    assert cgan["kind"] == "conditional_digits" and cgan["label"] == "y"
    assert {f"class_accuracy/{d}" for d in range(10)} | {"class_accuracy", "fd"} <= set(cgan)
    json.dumps(cgan, allow_nan=False)
    tiny = ["params.ngf=8", "params.ndf=8", "params.hidden=16", *small]
    info = evaluate_checkpoint(train(tmp_path, "infogan", tiny, steps=2), n=100)
    assert info["kind"] == "infogan_digits" and info["code"] == "c"
    assert len(info["code_digits"]) == 10 and 1 <= info["distinct_digits"] <= 10
    assert "class_accuracy" not in info and {"code_purity", "fd"} <= set(info)
    json.dumps(info, allow_nan=False)
