"""`ganbuilder translate` on a label-map model (SPADE): a folder of label PNGs becomes the
generator's `seg` input through the source's reader, z is drawn, inputs are never touched."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.data.latent import sample_latent
from ganbuilder.runs.grid import to_uint8
from ganbuilder.sampling import load_model
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

from .conftest import ROOT, TINY


@pytest.fixture(scope="module")
def spade(tmp_path_factory) -> Path:
    # G at unit init: at the spec's 0.02 one step leaves every image a flat grey.
    spec = load_spec(ROOT / "specs" / "spade.yaml", [*TINY["spade"], "data.batch_size=2",
                                                         "networks.G.init.xavier=1.0"])
    return Trainer(spec, tmp_path_factory.mktemp("spade"), steps=1).run() / "checkpoints" / \
        "last.pt"


def write_labels(folder: Path, ids: dict[str, np.ndarray]) -> dict[str, bytes]:
    """Grey label PNGs (class id per pixel); returns their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, values in ids.items():
        Image.fromarray(values.astype(np.uint8), mode="L").save(folder / name)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def translate(checkpoint: Path, source: Path, out: Path, *extra: str) -> int:
    return main(["translate", str(checkpoint), "--input", str(source), "--out", str(out), *extra])


def test_label_maps_become_images_of_the_trained_size(spade, tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = tmp_path / "labels"
    maps = {"sky.png": np.zeros((16, 16)), "mixed.png": rng.integers(0, 4, (16, 16)),
            "stripes.png": np.repeat(np.arange(4), 4)[None, :].repeat(16, 0)}
    write_labels(labels, maps)
    before = digest(labels)
    assert translate(spade, labels, tmp_path / "out") == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(maps)
    images = {n: np.asarray(Image.open(tmp_path / "out" / n)) for n in written}
    assert all(im.shape == (32, 32, 3) for im in images.values())  # resized to image_size
    # The label map steers the image: different maps, different pictures (same z seed).
    assert not np.array_equal(images["sky.png"], images["stripes.png"])
    # Each file is the `seg` of G(seg, z), z drawn from the latent prior with seed 0.
    spec, gan, _ = load_model(spade)
    z = sample_latent(spec.tree["latent"], 1, torch.Generator().manual_seed(0), "cpu")["z"]
    ids = torch.as_tensor(maps["stripes.png"], dtype=torch.int64)[None]
    seg = torch.nn.functional.interpolate(  # 16 -> 32 px, nearest
        torch.nn.functional.one_hot(ids, 4).permute(0, 3, 1, 2).float(), size=32)
    with torch.no_grad():
        expected = to_uint8(gan.nets["G"].eval()(seg, z).numpy())[0]
    assert np.abs(expected.astype(int) - images["stripes.png"]).max() <= 1
    assert digest(labels) == before
    # Seeded: the same folder gives the same images again.
    assert translate(spade, labels, tmp_path / "again") == 0
    assert all(np.array_equal(images[n], np.asarray(Image.open(tmp_path / "again" / n)))
               for n in written)
    # Never over its inputs.
    assert translate(spade, labels, labels) == 2
    assert digest(labels) == before
    assert "Traceback" not in capsys.readouterr().err


def test_a_label_id_beyond_the_classes_names_the_file(spade, tmp_path, capsys):
    labels = tmp_path / "labels"
    write_labels(labels, {"a.png": np.zeros((8, 8)), "b.png": np.full((8, 8), 7)})
    assert translate(spade, labels, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"{labels / 'b.png'} holds label 7, but data.classes is 4 (ids 0..3)" in err
    assert "the model was trained on these classes only" in err and "Traceback" not in err
