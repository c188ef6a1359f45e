import importlib.util
import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

# The digit StyleGAN2s (stylegan2_ada and the specs that extend it) share one shrink.
STYLEGAN2_DIGITS = ["params.image_size=8", "params.ch_max=8", "params.z_dim=8", "params.w_dim=8",
                    "data.batch_size=8"]

# Shrinks any shipped spec to something that trains a step in well under a second.
TINY = {
    "dcgan": ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"],
    "dcgan_diffaugment": ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"],
    "infogan": ["params.ngf=8", "params.ndf=8", "params.nz=8", "params.hidden=16"],
    "stylegan": ["params.fmap_base=32", "params.fmap_max=8", "params.nz=8", "params.w_dim=8"],
    "stylegan2": ["params.image_size=8", "params.ch_max=8", "params.z_dim=8", "params.w_dim=8",
                  "params.mapping=2"],
    "stylegan2_ada": STYLEGAN2_DIGITS,
    "stylegan2_diffaugment": STYLEGAN2_DIGITS,
    "wgan": ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"],
    "began": ["params.n=8", "params.nz=8"],
    "biggan": ["params.ngf=4", "params.ndf=8", "params.chunk=4", "params.shared=8"],
    "lapgan": ["params.hidden=16", "params.ngf=8", "params.ndf=8", "params.nz0=8"],
    "srgan": ["params.ngf=8", "params.blocks=1", "params.ndf=4", "params.dense=8"],
    # VGG19 keeps its torchvision widths; without the ImageNet file it starts random (warned).
    "srgan_vgg": ["params.ngf=8", "params.blocks=1", "params.ndf=4", "params.dense=8",
                  "networks.vgg19.weights=null", "data.batch_size=2"],
    "esrgan": ["params.nf=8", "params.gc=4", "params.blocks=1", "params.ndf=4"],
    "spade": ["params.ngf=2", "params.ndf=4", "params.nhidden=8", "params.z_dim=4"],
    "stargan": ["params.conv_dim=4", "params.g_blocks=1"],
    "cut": ["params.ngf=4", "params.ndf=4", "params.n_blocks=5", "params.nce_units=8",
            "params.patches=8"],
}


# Specs too large to run at their shipped size in a test get their widths cut, as TINY does.
SMALL = {**TINY, "pix2pix": ["params.ngf=8", "params.ndf=8"],
         "cyclegan": ["params.ngf=8", "params.ndf=8"]}


def import_file(path: Path):
    """The Python file at `path` imported as a module (an ejected model, a plugin)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def write_spec(tmp_path):
    """Write dedented YAML to a file in tmp_path and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


MINIMAL = """
version: 1
name: tiny
data: {source: ring8, batch_size: 32}
latent:
  z: {dist: normal, shape: [4]}
networks:
  G:
    layers:
      - linear: 16
      - relu
      - linear: 2
  D:
    layers:
      - linear: 16
      - leaky_relu: 0.2
      - linear: 1
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
training:
  steps: 4
  log_every: 2
  sample_every: 2
  checkpoint_every: 2
"""


@pytest.fixture
def minimal_spec(write_spec) -> Path:
    return write_spec(MINIMAL)


# -- data sets written for the data tests ---------------------------------------------------
def write_pair(left, path: Path) -> None:
    """An aligned A|B image: A = left (a uint8 array), B = its intensity mirror (255 - A)."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([left, 255 - left], axis=1)).save(path)


@pytest.fixture(scope="module")
def pair_dirs(tmp_path_factory) -> Path:
    """aligned/{train,test}/ (A|B side by side), folders/{A,B}/ and unpaired/{train,test}{A,B}/.

    Every B image is the intensity mirror of its A image, so real_B == -real_A for pairs; the
    unpaired images are flat grays 10 * (i + 1) (A) and 100 + 10 * i (B), so values identify them.
    """
    import numpy as np
    from PIL import Image

    base = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for i in range(5):
        write_pair(
            rng.integers(0, 256, (12, 12, 3), dtype=np.uint8),
            base / "aligned" / "train" / f"p{i}.png",
        )
    write_pair(
        rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), base / "aligned" / "test" / "t.png"
    )
    for i in range(4):
        a = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
        (base / "folders" / "A" / "sub").mkdir(parents=True, exist_ok=True)
        (base / "folders" / "B" / "sub").mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(base / "folders" / "A" / "sub" / f"x{i}.png")
        Image.fromarray(255 - a).save(base / "folders" / "B" / "sub" / f"x{i}.bmp")
    sizes = {"trainA": 6, "trainB": 4, "testA": 2, "testB": 3}
    for folder, n in sizes.items():
        (base / "unpaired" / folder).mkdir(parents=True)
        for i in range(n):
            value = 10 * (i + 1) if folder.endswith("A") else 100 + 10 * i
            Image.new("RGB", (9, 9), (value,) * 3).save(base / "unpaired" / folder / f"{i}.png")
    return base



def expect_data_error(cfg: dict, base: Path, path: str, *texts: str) -> None:
    """Opening (and reading all of) the data `cfg` fails with a DataError at `path` whose
    message holds each of `texts`."""
    from ganbuilder.data import open_source
    from ganbuilder.errors import DataError

    with pytest.raises(DataError) as info:
        src = open_source(cfg, base)
        src.fixed_batch(len(src))
    assert info.value.problems[0].path == path
    for text in texts:
        assert text in info.value.problems[0].message
