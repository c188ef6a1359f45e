"""SRGAN and ESRGAN equal their reference implementations: parameter counts at the published
sizes, and, with the same weights mapped by name, the same outputs.

tests/data/superres_parity.json holds facts about the references, not their code: for small
configurations of xinntao/ESRGAN's RRDBNet, xinntao/BasicSR's VGGStyleDiscriminator128 and
twhui/SRGAN-PyTorch's SRResNetGenerator and SingleLabelDiscriminator_96, each state-dict key
with its shape beside the ganbuilder key it maps to, how each value is drawn (numpy's frozen
RandomState stream, seed `weight_seed`, in the table's order), and the reference's output on a
seeded input. twhui's 6x6 "dense" conv on the 6x6 map is ganbuilder's flatten + linear: the
same weights, reshaped.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize

PARITY = json.loads((Path(__file__).parent / "data" / "superres_parity.json").read_text())


def _draw(kind: str, shape: tuple, rng: np.random.RandomState) -> np.ndarray:
    if kind == "var":
        return rng.uniform(0.5, 1.5, shape)
    if kind == "shift":
        return 0.1 * rng.standard_normal(shape)
    if kind == "weight":
        return rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
    if kind == "slope":
        return 0.25 + 0.05 * rng.standard_normal(shape)
    return 1.0 + 0.1 * rng.standard_normal(shape)


@pytest.mark.parametrize("case", sorted(PARITY))
def test_reference_weights_give_reference_outputs(case):
    facts = PARITY[case]
    net = GAN(load_spec(facts["spec"], facts["set"])).nets[facts["network"]].eval()
    ours = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert [(k, s) for _, _, k, s, _ in facts["keys"]] == [(k, list(v.shape))
                                                            for k, v in ours.items()]
    rng = np.random.RandomState(facts["weight_seed"])
    mapped = {}
    for _, ref_shape, key, _, kind in facts["keys"]:
        value = torch.tensor(_draw(kind, tuple(ref_shape), rng), dtype=torch.float32)
        mapped[key] = value.reshape(ours[key].shape)
    net.load_state_dict(mapped, strict=False)
    x = np.random.RandomState(facts["input_seed"]).uniform(-1, 1, facts["input_shape"])
    with torch.no_grad():
        out = net(torch.tensor(x, dtype=torch.float32)).reshape(-1)
    expected = torch.tensor(facts["output"])
    assert out.shape == expected.shape
    assert float((out - expected).abs().max()) < 1e-4


PUBLISHED = [
    # twhui/SRGAN-PyTorch SRResNetGenerator(3, 3, 64, ngb=16), SingleLabelDiscriminator_96(3, 64)
    ("specs/srgan.yaml", ["params.image_size=96", "params.channels=3", "params.ngf=64",
                          "params.blocks=16", "params.ndf=64", "params.dense=1024"],
     1_549_462, 23_565_505, [3, 96, 96]),
    # xinntao/ESRGAN RRDBNet(3, 3, 64, 23, gc=32); BasicSR VGGStyleDiscriminator128(3, 64)
    ("specs/esrgan.yaml", ["params.image_size=128", "params.channels=3", "params.nf=64",
                           "params.gc=32", "params.blocks=23", "params.ndf=64"],
     16_697_987, 14_499_401, [3, 128, 128]),
]


@pytest.mark.parametrize(("path", "sets", "g", "d", "image"), PUBLISHED,
                         ids=["srgan", "esrgan"])
def test_published_parameter_counts(path, sets, g, d, image, monkeypatch):
    monkeypatch.setenv("GANBUILDER_MEMORY_LIMIT", "1T")  # summary only; nothing is built
    nets = summarize(load_spec(path, sets))["networks"]
    assert (nets["G"]["params"], nets["D"]["params"]) == (g, d)
    assert nets["G"]["input_shapes"] == [[3, image[1] // 4, image[2] // 4]]
    assert nets["G"]["output_shape"] == image
