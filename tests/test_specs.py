"""Every shipped spec validates, compiles and trains a few steps; published counts hold."""

import json
import math

import pytest

from ganbuilder.compile.model import GAN
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize
from ganbuilder.train.trainer import Trainer

from .conftest import ROOT, SPECS, TINY

SHRINK = ["training.log_every=1", "data.batch_size=8"]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_validates_with_description(path):
    spec = load_spec(path)
    assert spec.tree.get("description"), f"{path.name} needs a description"
    assert spec.name == path.stem


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_the_readme_table_describes_every_shipped_spec(path):
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith(f"| `specs/{path.name}` | ")]
    assert len(rows) == 1 and len(rows[0]) > len(f"| `specs/{path.name}` | ") + 10, rows


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_compiles_to_its_inferred_shapes(path):
    spec = load_spec(path, TINY.get(path.stem, []))
    gan = GAN(spec)
    import torch

    for name, plan in spec.analysis.networks.items():
        inputs = [torch.randn(2, *s) if s else torch.zeros(2, dtype=torch.long)
                  for s in plan.input_shapes]
        out = gan.nets[name].eval()(*inputs)
        assert tuple(out.shape[1:]) == plan.output_shape


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_trains_a_few_steps(path, tmp_path):
    spec = load_spec(path, [*TINY.get(path.stem, []), *SHRINK])
    run = Trainer(spec, tmp_path / "run", steps=3).run()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    for objective, cfg in spec.tree["objectives"].items():
        assert math.isfinite(rows[-1][f"loss/{objective}"])
        terms = [k for k in rows[0] if k.startswith(f"loss/{objective}/")]
        assert len(terms) == len(cfg["loss"]), terms  # every term recorded on its own
        # A lazy term (`every: n`) is computed on steps 0, n, 2n, ... only.
        lazy = [t for t in cfg["loss"] if (next(iter(t.values())) or {}).get("every", 1) > 1]
        last = [k for k in rows[-1] if k.startswith(f"loss/{objective}/")]
        assert len(last) == len(cfg["loss"]) - len(lazy), last
    assert all(math.isfinite(v) for v in rows[-1].values())
    assert (run / "checkpoints" / "last.pt").is_file()
    assert sorted(p.name for p in (run / "samples").iterdir())[-1] == "step_000003.png"
    assert load_spec(run / "spec.yaml").tree == spec.tree  # the resolved spec reloads as is


def test_dcgan_matches_pytorch_examples_parameter_counts():
    spec = load_spec("specs/dcgan.yaml", ["params.nc=3", "params.image_size=64"])
    nets = summarize(spec)["networks"]
    assert nets["G"]["params"] == 3_576_704
    assert nets["D"]["params"] == 2_765_568
    assert nets["G"]["output_shape"] == [3, 64, 64]


# NVlabs/stylegan's networks_stylegan.py at its 1024 px defaults (FFHQ: 3 channels, z and w
# 512, 8 mapping layers, nf(stage) = min(int(8192 / 2**stage), 512)), counted from its
# trainable variables with the network at its final resolution (one toRGB, one fromRGB):
# G_mapping 2,101,248 + G_synthesis 24,110,771; D_basic 23,077,137.
STYLEGAN_1024 = ["params.nz=512", "params.w_dim=512", "params.mapping=8", "params.nc=3",
                 "params.fmap_base=8192", "params.fmap_max=512", "params.image_size=1024"]


def test_stylegan_matches_nvlabs_parameter_counts_at_1024(monkeypatch):
    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "1T")  # summary only; nothing is built
    spec = load_spec("specs/stylegan.yaml", STYLEGAN_1024)
    nets = summarize(spec)["networks"]
    assert nets["G"]["params"] == 26_212_019
    assert nets["D"]["params"] == 23_077_137
    assert nets["G"]["output_shape"] == [3, 1024, 1024]
    channels = [row["output_shape"][0] for row in nets["G"]["layers"]
                if row["kind"] == "conv" and row["output_shape"][1] > 1]
    per_resolution = [512, 512, 512, 256, 128, 64, 32, 16]  # 8x8 ... 1024x1024: nf(r - 1)
    assert channels == [512, *[c for c in per_resolution for _ in (0, 1)], 3]  # 4x4, toRGB


def test_stylegan_default_is_the_small_digits_model():
    nets = summarize(load_spec("specs/stylegan.yaml"))["networks"]
    assert (nets["G"]["params"], nets["D"]["params"]) == (198_177, 204_833)
    assert nets["G"]["output_shape"] == [1, 16, 16]


def test_dcgan_depth_follows_image_size():
    small = load_spec("specs/dcgan.yaml")
    large = load_spec("specs/dcgan.yaml", ["params.image_size=64"])
    assert len(large.analysis.networks["G"].layers) == len(small.analysis.networks["G"].layers) + 3
    assert small.analysis.networks["G"].output_shape == (1, 32, 32)
