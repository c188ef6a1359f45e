import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

# Shrinks any shipped spec to something that trains a step in well under a second.
TINY = {
    "dcgan": ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"],
    "dcgan_diffaugment": ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"],
    "infogan": ["params.ngf=8", "params.ndf=8", "params.nz=8", "params.hidden=16"],
    "stylegan": ["params.fmap_base=32", "params.fmap_max=8", "params.nz=8", "params.w_dim=8"],
    "wgan": ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"],
    "began": ["params.n=8", "params.nz=8"],
    "biggan": ["params.ngf=4", "params.ndf=8", "params.chunk=4", "params.shared=8"],
    "lapgan": ["params.hidden=16", "params.ngf=8", "params.ndf=8", "params.nz0=8"],
}


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
