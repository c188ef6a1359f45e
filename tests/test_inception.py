"""The project's Inception-v3 reads FID weights files by their standard state-dict layout, and
`ganbuilder evaluate --inception` scores an image generator on a folder with it."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.errors import UserError
from ganbuilder.evaluate import features as features_module
from ganbuilder.evaluate.features import load_stats
from ganbuilder.evaluate.inception import (
    ENV,
    WEIGHTS_NAME,
    FIDInception,
    find_weights,
    load_inception,
)
from ganbuilder.evaluate.protocols import clean_resize as resize_clean


def random_weights(path, seed=0):
    """A weights file with the standard layout and random values, scaled so that activations
    keep their size through the 94 conv layers (features neither vanish nor explode)."""
    torch.manual_seed(seed)
    state = {}
    for key, value in FIDInception().state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue  # the TF-ported file has no such counters
        if key.endswith("conv.weight"):
            value = torch.nn.init.kaiming_normal_(torch.empty_like(value), nonlinearity="relu")
        elif key.endswith(("bn.bias", "fc.bias", "running_mean")):
            value = torch.randn_like(value) * 0.1
        elif key.endswith("fc.weight"):
            value = torch.randn_like(value) * 0.01
        state[key] = value
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return random_weights(tmp_path_factory.mktemp("inception") / "w.pth")


def test_the_layout_is_pytorch_fids(weights):
    state = torch.load(weights, weights_only=True)
    # 94 conv + batch-norm blocks (5 tensors each) and the 1008-class head.
    assert len(state) == 94 * 5 + 2
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
    assert shapes["Mixed_6b.branch7x7_2.conv.weight"] == (128, 128, 1, 7)
    assert shapes["Mixed_6e.branch7x7dbl_5.conv.weight"] == (192, 192, 1, 7)
    assert shapes["Mixed_7a.branch7x7x3_4.conv.weight"] == (192, 192, 3, 3)
    assert shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
    assert shapes["Mixed_7c.branch3x3dbl_1.bn.running_var"] == (448,)
    assert shapes["fc.weight"] == (1008, 2048)


def test_loads_a_standard_file_and_gives_2048_features(weights):
    net = load_inception(weights)
    x = torch.rand(2, 3, 75, 75) * 2 - 1
    with torch.no_grad():
        f = net(x)
    assert f.shape == (2, 2048)
    assert torch.isfinite(f).all()
    assert f.std() > 0 and not torch.allclose(f[0], f[1])
    # Eval mode: each image's features do not depend on its batch.
    with torch.no_grad():
        assert torch.allclose(net(x[:1]), f[:1], atol=1e-5)


def test_the_fid_blocks_pool_like_tensorflow(weights):
    net = load_inception(weights)
    x = torch.rand(1, 288, 9, 9)
    with torch.no_grad():
        # The pool branch of an A block: padding left out of the mean at the borders.
        pooled = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        branch = net.Mixed_5d.branch_pool(pooled)
        assert torch.allclose(net.Mixed_5d(x)[:, -64:], branch)
    assert net.Mixed_7c.max_pool and not net.Mixed_7b.max_pool


def test_a_wrong_file_is_a_clear_error(tmp_path, weights):
    state = torch.load(weights, weights_only=True)
    del state["Mixed_6a.branch3x3.conv.weight"]
    state["Mixed_5b.branch1x1.conv.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(UserError) as err:
        load_inception(tmp_path / "broken.pth")
    text = str(err.value)
    assert "not the FID Inception-v3 weights" in text
    assert "Mixed_6a.branch3x3.conv.weight" in text and "shapes differ" in text
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="not a readable Inception weights file"):
        load_inception(tmp_path / "junk.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(UserError, match="not an Inception state dict"):
        load_inception(tmp_path / "list.pth")


def test_weights_are_found_by_flag_env_or_hub_cache_and_never_downloaded(tmp_path,
                                                                        monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    hub = tmp_path / "torch" / "hub" / "checkpoints" / WEIGHTS_NAME
    with pytest.raises(UserError) as err:
        find_weights()
    assert str(hub) in str(err.value) and "never downloads" in str(err.value)
    hub.parent.mkdir(parents=True)
    hub.write_bytes(b"x")
    assert find_weights() == hub
    other = tmp_path / "mine.pth"
    other.write_bytes(b"x")
    monkeypatch.setenv(ENV, str(other))
    assert find_weights() == other
    with pytest.raises(UserError, match="--inception"):
        find_weights(tmp_path / "absent.pth")


def test_preprocessing_resizes_uint8_with_bicubic_filtering():
    flat = np.full((16, 16, 3), 200, np.uint8)
    out = resize_clean(flat, 75)
    assert out.shape == (3, 75, 75) and np.allclose(out, 200.0, atol=1e-3)
    # Shrinking filters over the source (antialiasing): a fine checkerboard becomes grey.
    board = ((np.indices((300, 300)).sum(0) % 2) * 255).astype(np.uint8)
    grey = resize_clean(np.stack([board] * 3, -1), 75)
    assert np.abs(grey - 127.5).max() < 10


DCGAN_ON_A_FOLDER = ["--set", "params.image_size=16", "--set", "params.ngf=8", "--set",
                     "params.ndf=8", "--set", "params.nz=8", "--set", "params.nc=3",
                     "--set", "data.source=folder", "--set", "data.batch_size=4"]


def image_folder(root, count, seed):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for i in range(count):
        image = np.zeros((16, 16, 3), np.uint8) + rng.integers(0, 255, 3, dtype=np.uint8)
        y, x = rng.integers(0, 10, 2)
        image[y:y + 6, x:x + 6] = 255 - image[y, x]
        Image.fromarray(image).save(root / f"{i:02d}.png")
    return root


def test_evaluate_a_dcgan_on_a_folder_with_inception_metrics(tmp_path, weights, capsys,
                                                             monkeypatch):
    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(features_module, "INPUT_SIZE", 75)  # 299 costs too much CPU in tests
    train = image_folder(tmp_path / "data" / "train", 10, 0)
    image_folder(tmp_path / "data" / "test", 8, 1)
    run = tmp_path / "run"
    assert main(["run", "specs/dcgan.yaml", *DCGAN_ON_A_FOLDER, "--set", f"data.root={train}",
                 "--steps", "2", "--out", str(run), "--quiet"]) == 0
    ckpt = str(run / "checkpoints" / "last.pt")
    stats = tmp_path / "real.npz"
    capsys.readouterr()
    assert main(["evaluate", ckpt, "--inception", str(weights), "--n", "7", "--json",
                 "--save-stats", str(stats), "--kid-subset-size", "5"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "inception" and result["n"] == 7
    assert result["protocol"] == "clean" and result["kid_subset_size"] == 5
    assert result["n_real"] == 8 and "test" in result["real"]  # the held-out split
    for key in ("fid", "kid", "precision", "recall", "density", "coverage"):
        assert isinstance(result[key], float), key
    assert result["fid"] > 0 and 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert "NOT the standard" in result["inception_weights"]
    assert "75x75" in result["preprocess"]
    assert list((tmp_path / "cache" / "inception").glob("test-*.npz"))
    assert load_stats(stats).count == 8

    # The same real set from its saved statistics, and the protocol in the text output.
    assert main(["evaluate", ckpt, "--inception", str(weights), "--n", "7",
                 "--real", str(stats)]) == 0
    text = capsys.readouterr().out
    assert "protocol:" in text and "scores:" in text
    assert f"statistics file {stats}" in text
    assert f"{result['fid']:.6g}" in text  # the saved features give the same FID


def test_evaluate_without_the_weights_says_where_to_put_them(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    train = image_folder(tmp_path / "faces", 6, 0)
    run = tmp_path / "run"
    assert main(["run", "specs/dcgan.yaml", *DCGAN_ON_A_FOLDER, "--set", f"data.root={train}",
                 "--steps", "1", "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run / "checkpoints" / "last.pt"), "--n", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert WEIGHTS_NAME in err and str(tmp_path / "torch" / "hub" / "checkpoints") in err


def labelled_folder(root, count, seed):
    """Two classes a/ and b/: dark and light squares."""
    rng = np.random.default_rng(seed)
    for cls, level in (("a", 40), ("b", 210)):
        (root / cls).mkdir(parents=True)
        for i in range(count):
            image = np.clip(level + rng.normal(0, 20, (16, 16)), 0, 255).astype(np.uint8)
            Image.fromarray(image).save(root / cls / f"{i:02d}.png")


def test_a_conditional_model_on_a_labelled_folder_gets_classifier_metrics(
        tmp_path, weights, capsys, monkeypatch):
    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(features_module, "INPUT_SIZE", 75)
    labelled_folder(tmp_path / "data" / "train", 8, 0)
    labelled_folder(tmp_path / "data" / "test", 4, 1)
    run = tmp_path / "run"
    assert main(["run", "specs/cgan.yaml", "--set", "params.classes=2", "--set",
                 "data.source=folder", "--set", f"data.root={tmp_path / 'data' / 'train'}",
                 "--set", "data.channels=1", "--set", "data.batch_size=4", "--steps", "2",
                 "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run / "checkpoints" / "last.pt"), "--inception", str(weights),
                 "--n", "8", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "inception" and result["n_real"] == 8
    assert "2 classes" in result["classifier"] and "the test split" in result["classifier"]
    assert result["classifier_accuracy"] == 1.0  # dark and light squares: trivially separable
    assert result["classifier_fd"] >= 0
    assert set(result) >= {"class_accuracy", "class_accuracy/0", "class_accuracy/1", "fid"}
    assert 0 <= result["class_accuracy"] <= 1
