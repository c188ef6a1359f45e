"""`ganbuilder import`: every registered layout's reference-layout weights import into its
shipped spec and compute the reference's outputs; misfits and code pickles are one message.

The tables (tests/data/zoo_*.json, stylegan2_rosinality.json) hold the reference projects'
key names, shapes and outputs measured by running their code; no reference code is here.
"""

from __future__ import annotations

import argparse
import json
import pickle

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.layers.style_modules import NoiseInjection
from ganbuilder.runs.checkpoint import load_checkpoint
from ganbuilder.sampling import load_model
from ganbuilder.zoo import LAYOUTS
from ganbuilder.zoo.keymap import target_key

from .conftest import ROOT
from .zoo_reference import DATA, draw_all, draw_state, table

TABLED = ["biggan", "cyclegan", "dcgan", "pix2pix"]
STYLEGAN2 = json.loads((DATA / "stylegan2_rosinality.json").read_text())


class Snapshot:
    """Stands for a network object a snapshot pickles (NVlabs' dnnlib networks)."""


# Tables other work keeps; every other layout's is tests/data/zoo_<layout>.json.
TABLES = {"stylegan2": "stylegan2_rosinality.json", "esrgan": "superres_parity.json",
          "cut": "cut_taesungp.json"}
# Layouts whose spec (and table) another branch of the same session ships (issue 24).
ARRIVING = {"esrgan", "cut"}


def test_every_layout_has_a_reference_table():
    for name in LAYOUTS:
        if name in ARRIVING and not (ROOT / "specs" / LAYOUTS.get(name).spec).exists():
            continue
        assert (DATA / TABLES.get(name, f"zoo_{name}.json")).exists(), name
        assert (ROOT / "specs" / LAYOUTS.get(name).spec).exists(), name


def _import(tmp_path, facts: dict, files: dict[str, object], *extra: str) -> int:
    args = []
    for name, obj in files.items():
        torch.save(obj, tmp_path / name)
        args.append(str(tmp_path / name))
    command = ["import", facts["layout"], *args, "--spec", str(ROOT / "specs" / facts["spec"]),
               "-o", str(tmp_path / "imported.pt"), *extra]
    for override in facts["overrides"]:
        command += ["--set", override]
    return main(command)


@pytest.mark.parametrize("layout", TABLED)
def test_reference_weights_compute_the_reference_outputs(layout, tmp_path):
    facts = table(layout)
    states, inputs = draw_all(facts)
    files = {name: states[net] for name, net in facts["files"].items()}
    assert _import(tmp_path, facts, files) == 0
    _, gan, step = load_model(tmp_path / "imported.pt")
    assert step == 0
    for reference, out in facts["outputs"].items():
        net = gan.nets[out["network"]].eval()
        args = [inputs[out["input"]]]
        if "labels" in facts:  # class-conditional networks take the labels too
            args.append(torch.tensor(facts["labels"]))
        with torch.no_grad():
            y = net(*args).reshape(-1)
        if out["apply"] == "sigmoid":  # the reference's critic ends in a sigmoid
            y = torch.sigmoid(y)
        assert y.numel() == out["numel"], reference
        expected = torch.tensor(out["values"])
        assert (y[::out["stride"]] - expected).abs().max().item() < 1e-5, reference


def _stylegan2_file() -> tuple[dict, torch.Tensor, list[torch.Tensor]]:
    """rosinality's checkpoint layout from the stored table: g_ema and d, their values drawn
    as the reference's were, then z and the noise maps."""
    gen = torch.Generator().manual_seed(STYLEGAN2["seed"])
    file = {}
    for net, reference in (("G", "g_ema"), ("D", "d")):
        file[reference] = {ref: torch.randn(shape, generator=gen)
                           for _, ref, shape in STYLEGAN2["keys"][net]}
    z = torch.randn(STYLEGAN2["batch"], 16, generator=gen)
    noise = [torch.randn(STYLEGAN2["batch"], 1, s, s, generator=gen)
             for s in STYLEGAN2["noise_sizes"]]
    file["args"] = argparse.Namespace(size=16, r1=10.0)  # train.py keeps its options there
    return file, z, noise


def test_stylegan2_rules_give_the_measured_key_table():
    layout = LAYOUTS.get("stylegan2")
    params = {"mapping": 2, "stages": 2}
    for net, reference in (("G", "g_ema"), ("D", "d")):
        rules = next(m.rules for m in layout.networks if m.reference == reference)
        for ours, ref, _ in STYLEGAN2["keys"][net]:
            assert target_key(rules, ref, params)[1] == ours, ref


def test_stylegan2_checkpoint_computes_the_reference_image_and_score(tmp_path):
    file, z, noise = _stylegan2_file()
    facts = {"layout": "stylegan2", "spec": "stylegan2.yaml", "overrides": STYLEGAN2["overrides"]}
    assert _import(tmp_path, facts, {"550000.pt": file}) == 0
    _, gan, _ = load_model(tmp_path / "imported.pt")
    g, d = gan.nets["G"].eval(), gan.nets["D"].eval()
    for module, n in zip([m for m in g.modules() if isinstance(m, NoiseInjection)], noise,
                         strict=True):
        module.fixed = n
    image = torch.tensor(STYLEGAN2["image"]).reshape(STYLEGAN2["image_shape"])
    with torch.no_grad():
        assert (g(z) - image).abs().max().item() < 1e-4
        score = d(image).flatten()
    assert (score - torch.tensor(STYLEGAN2["score"])).abs().max().item() < 1e-4
    record = load_checkpoint(tmp_path / "imported.pt")["imported"]
    assert record["layout"] == "stylegan2" and len(record["files"][0]["sha256"]) == 64


def test_without_latent_avg_the_mean_w_is_measured(tmp_path):
    file, _, _ = _stylegan2_file()
    facts = {"layout": "stylegan2", "spec": "stylegan2.yaml", "overrides": STYLEGAN2["overrides"]}
    assert _import(tmp_path, facts, {"550000.pt": file}) == 0   # g_ema and d, no latent_avg
    _, gan, _ = load_model(tmp_path / "imported.pt")
    g = gan.nets["G"].eval()
    truncation = g.get_submodule("layers.5")   # after the two mapping layers
    ws = []
    handle = truncation.register_forward_pre_hook(lambda m, args: ws.append(args[0]))
    with torch.no_grad():
        g(torch.randn(4096, 16, generator=torch.Generator().manual_seed(5)))
    handle.remove()
    mean, spread = ws[0].mean(0), ws[0].std(0)
    assert (truncation.w_avg - mean).abs().max() < 0.1 * spread.mean()   # 4096 draws each
    assert truncation.w_avg.abs().max() > 0.3 * spread.mean()           # not the zeros


def test_mis_sized_file_names_the_keys_and_the_param_that_fits(tmp_path, capsys):
    rows = json.loads((DATA / "zoo_cyclegan_9blocks.json").read_text())["keys"]["G_A"]
    state = draw_state(rows, torch.Generator().manual_seed(0), 0.1)
    facts = {"layout": "cyclegan", "spec": "cyclegan.yaml",
             "overrides": ["params.ngf=4", "params.n_blocks=6"]}
    assert _import(tmp_path, facts, {"latest_net_G_A.pth": state}) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "Traceback" not in err
    assert "model.16.conv_block.1.weight" in err and "keys only in the file" in err
    assert "--set params.n_blocks=9 fits it" in err
    assert not (tmp_path / "imported.pt").exists()


def test_wrong_width_names_the_shapes_and_ngf(tmp_path, capsys):
    facts = table("cyclegan")
    states, _ = draw_all(facts)
    facts = {**facts, "overrides": [o.replace("ngf=4", "ngf=8") for o in facts["overrides"]]}
    assert _import(tmp_path, facts, {"latest_net_G_A.pth": states["G_A"]}) == 2
    err = capsys.readouterr().err
    assert "model.1.weight (4, 3, 7, 7) in the file, (8, 3, 7, 7) in the spec" in err
    assert "--set params.ngf=4 fits it" in err


@pytest.mark.parametrize("payload", ["module", "snapshot"])
def test_a_file_that_needs_code_is_refused_with_what_to_do(payload, tmp_path, capsys):
    path = tmp_path / ("net.pth" if payload == "module" else "network-snapshot.pkl")
    if payload == "module":
        torch.save(torch.nn.Conv2d(3, 4, 3), path)  # a whole pickled module
    else:
        path.write_bytes(pickle.dumps({"G_ema": Snapshot()}))  # NVlabs': objects with code
    code = main(["import", "stylegan2", str(path), "--spec", str(ROOT / "specs/stylegan2.yaml"),
                 "-o", str(tmp_path / "out.pt")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "Traceback" not in err
    assert "would run code" in err and "convert_weight.py" in err
    assert not (tmp_path / "out.pt").exists()


def test_a_full_disk_keeps_the_checkpoint_that_was_there(tmp_path, capsys, monkeypatch):
    from .test_nothing_lost import full_disk_at

    facts = table("dcgan")
    states, _ = draw_all(facts)
    (tmp_path / "imported.pt").write_bytes(b"the earlier checkpoint")
    full_disk_at(monkeypatch, "imported.pt")
    files = {name: states[net] for name, net in facts["files"].items()}
    assert _import(tmp_path, facts, files, "--force") == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "no space left" in err
    assert (tmp_path / "imported.pt").read_bytes() == b"the earlier checkpoint"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_one_network_file_of_an_ambiguous_name_asks_which(tmp_path, capsys):
    facts = table("cyclegan")
    states, _ = draw_all(facts)
    assert _import(tmp_path, facts, {"horse2zebra.pth": states["G_A"]}) == 2
    assert "G_A=" in capsys.readouterr().err
    torch.save(states["G_A"], tmp_path / "horse2zebra.pth")
    command = ["import", "cyclegan", f"G_A={tmp_path / 'horse2zebra.pth'}", "--spec",
               str(ROOT / "specs/cyclegan.yaml"), "-o", str(tmp_path / "imported.pt")]
    for override in facts["overrides"]:
        command += ["--set", override]
    assert main(command) == 0
    record = load_checkpoint(tmp_path / "imported.pt")["imported"]
    assert record["networks"]["G_AB"] == "G_A" and record["networks"]["G_BA"].startswith("init")


def test_never_over_an_input_nor_an_existing_file_without_force(tmp_path, capsys):
    facts = table("dcgan")
    states, _ = draw_all(facts)
    files = {name: states[net] for name, net in facts["files"].items()}
    assert _import(tmp_path, facts, files) == 0
    first = (tmp_path / "imported.pt").read_bytes()
    assert _import(tmp_path, facts, files) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / "imported.pt").read_bytes() == first
    assert _import(tmp_path, facts, files, "--force") == 0
    netg = tmp_path / "netG_epoch_24.pth"
    command = ["import", "dcgan", str(netg), "--spec", str(ROOT / "specs/dcgan.yaml"), "-o",
               str(netg), "--force"]
    assert main(command) == 2
    assert "never writes over its inputs" in capsys.readouterr().err


@pytest.fixture(scope="module")
def imported_cyclegan(tmp_path_factory):
    """A CycleGAN imported from reference-layout files (the table's tiny widths)."""
    tmp_path = tmp_path_factory.mktemp("cyclegan")
    facts = table("cyclegan")
    states, _ = draw_all(facts)
    files = {name: states[net] for name, net in facts["files"].items()}
    assert _import(tmp_path, facts, files) == 0
    return tmp_path / "imported.pt"


def test_the_commands_that_read_checkpoints_read_an_imported_one(imported_cyclegan, tmp_path):
    from PIL import Image

    images = tmp_path / "in"
    images.mkdir()
    for i in range(2):
        Image.new("RGB", (32, 32), (40 * i, 90, 200)).save(images / f"{i}.png")
    ck = str(imported_cyclegan)
    assert main(["sample", ck, "--out", str(tmp_path / "grid.png"), "--n", "2"]) == 0
    assert main(["translate", ck, "--input", str(images), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png"]
    assert main(["export", ck, "--format", "safetensors", "--out",
                 str(tmp_path / "g.safetensors")]) == 0
    assert main(["evaluate", ck, "--n", "4", "--json"]) == 0
    assert main(["spec", ck]) == 0


def test_the_latent_explorer_opens_an_imported_generator(tmp_path):
    from ganbuilder.design.latent_explorer import ExplorerModel

    facts = table("dcgan")
    states, _ = draw_all(facts)
    assert _import(tmp_path, facts, {n: states[v] for n, v in facts["files"].items()}) == 0
    explorer = ExplorerModel.load(tmp_path / "imported.pt")
    assert explorer.step == 0 and explorer.render(
        {k: v[None] for k, v in explorer.latents(seed=0).items()}).shape == (1, 3, 64, 64)


def test_a_run_resumes_from_an_imported_checkpoint(imported_cyclegan, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--resume", str(imported_cyclegan), "--out", str(out), "--steps", "2",
                 "--quiet", "--set", "training.checkpoint_every=2"]) == 0
    trained = load_checkpoint(out / "checkpoints" / "last.pt")
    assert trained["step"] == 2 and trained["optimizers"]
    start = load_checkpoint(imported_cyclegan)["networks"]["G_AB"]["1.weight"]
    assert not torch.equal(trained["networks"]["G_AB"]["1.weight"], start)  # it trained on



def test_an_imported_generator_pair_fine_tunes_then_translates(tmp_path):
    """The fine-tuning path end to end: reference-layout G_A/G_B files imported, 100 steps
    of `run --init` on the built-in digits task, then a folder translated by the result."""
    from PIL import Image

    facts = table("cyclegan")
    states, _ = draw_all(facts)
    generators = {n: states[v] for n, v in facts["files"].items() if v.startswith("G")}
    assert _import(tmp_path, facts, generators) == 0
    imported = load_checkpoint(tmp_path / "imported.pt")["networks"]
    run = tmp_path / "run"
    assert main(["run", "specs/cyclegan.yaml", "--init", str(tmp_path / "imported.pt"),
                 "--init-networks", "G_AB,G_BA", "--out", str(run), "--steps", "100", "--quiet",
                 "--set", "training.checkpoint_every=100", "--set", "training.sample_every=100",
                 *[a for o in facts["overrides"] for a in ("--set", o)]]) == 0
    tuned = load_checkpoint(run / "checkpoints" / "last.pt")
    assert tuned["step"] == 100 and tuned["init"]["networks"] == ["G_AB", "G_BA"]
    for name in ("G_AB", "G_BA"):
        assert not torch.equal(tuned["networks"][name]["1.weight"], imported[name]["1.weight"])
    images = tmp_path / "in"
    images.mkdir()
    for i in range(3):
        Image.new("RGB", (32, 32), (60 * i, 20, 200)).save(images / f"{i}.png")
    assert main(["translate", str(run / "checkpoints" / "last.pt"), "--input", str(images),
                 "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png", "2.png"]

# The ESRGAN spec and its reference table (xinntao's RRDBNet and BasicSR's critic, values
# drawn from numpy's RandomState by kind) come with the super-resolution work of issue 24.
SUPERRES = DATA / "superres_parity.json"
_OLD_ESRGAN = {"conv_first": "model.0", "trunk_conv": "model.1.sub.{blocks}",
               "upconv1": "model.3", "upconv2": "model.6", "HRconv": "model.8",
               "conv_last": "model.10"}   # the original release's names (its transer script)
_BASICSR = {"RRDB_trunk.": "body.", ".RDB": ".rdb", "trunk_conv": "conv_body",
            "upconv": "conv_up", "HRconv": "conv_hr"}


def _superres_draw(kind: str, shape: tuple, rng) -> torch.Tensor:
    """superres_parity.json's values: numpy's RandomState stream, by kind."""
    import numpy as np

    if kind == "var":
        value = rng.uniform(0.5, 1.5, shape)
    elif kind == "shift":
        value = 0.1 * rng.standard_normal(shape)
    elif kind == "weight":
        value = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
    else:
        value = 1.0 + 0.1 * rng.standard_normal(shape)
    return torch.tensor(value, dtype=torch.float32)


def _dialect(key: str, dialect: str, blocks: int) -> str:
    if dialect == "old":
        for new, old in _OLD_ESRGAN.items():
            if key.startswith(new + "."):
                return old.format(blocks=blocks) + key[len(new):]
        return key.replace("RRDB_trunk.", "model.1.sub.").replace(".weight", ".0.weight") \
            .replace(".bias", ".0.bias")
    if dialect == "basicsr":
        for new, old in _BASICSR.items():
            key = key.replace(new, old)
    return key


@pytest.mark.skipif(not ((ROOT / "specs/esrgan.yaml").exists() and SUPERRES.exists()),
                    reason="specs/esrgan.yaml and its reference table come with issue 24's "
                           "super-resolution work")
@pytest.mark.parametrize(("case", "dialect"), [("esrgan_G", "new"), ("esrgan_G", "old"),
                                               ("esrgan_G", "basicsr"), ("esrgan_D", "new")])
def test_esrgan_files_compute_the_reference_outputs(case, dialect, tmp_path):
    import numpy as np

    facts = json.loads(SUPERRES.read_text())[case]
    rng = np.random.RandomState(facts["weight_seed"])
    blocks = int(next(s for s in facts["set"] if s.startswith("params.blocks=")).split("=")[1])
    state = {_dialect(ref, dialect, blocks): _superres_draw(kind, tuple(shape), rng)
             for ref, shape, _, _, kind in facts["keys"]}
    name = "RRDB_ESRGAN_x4.pth" if facts["network"] == "G" else "net_d_5000.pth"
    payload = {"params_ema": state} if dialect == "basicsr" else state
    torch.save(payload, tmp_path / name)
    command = ["import", "esrgan", str(tmp_path / name), "--spec", str(ROOT / "specs/esrgan.yaml"),
               "-o", str(tmp_path / "imported.pt")]
    for override in facts["set"]:
        command += ["--set", override]
    assert main(command) == 0
    _, gan, _ = load_model(tmp_path / "imported.pt")
    x = np.random.RandomState(facts["input_seed"]).uniform(-1, 1, facts["input_shape"])
    with torch.no_grad():
        out = gan.nets[facts["network"]].eval()(torch.tensor(x, dtype=torch.float32))
    assert (out.reshape(-1) - torch.tensor(facts["output"])).abs().max().item() < 1e-5


# The CUT spec and its reference table (taesungp's key names beside the spec's, weights
# N(0, 0.2^2) drawn per network from seeds G 1, D 2, F 3; outputs on a seeded input) come with
# the stargan_cut work of issue 24.
CUT = DATA / "cut_taesungp.json"


@pytest.mark.skipif(not ((ROOT / "specs/cut.yaml").exists() and CUT.exists()),
                    reason="specs/cut.yaml and its reference table come with issue 24's "
                           "stargan_cut work")
def test_cut_files_compute_the_reference_outputs(tmp_path):
    ref = json.loads(CUT.read_text())
    for name, seed in (("G", 1), ("D", 2), ("F", 3)):
        gen = torch.Generator().manual_seed(seed)
        state = {key: torch.randn(shape, generator=gen) * 0.2 for key, _, shape in
                 ref["tables"][name]}
        torch.save(state, tmp_path / f"latest_net_{name}.pth")
    command = ["import", "cut", *(str(tmp_path / f"latest_net_{n}.pth") for n in "GDF"),
               "--spec", str(ROOT / "specs/cut.yaml"), "-o", str(tmp_path / "imported.pt")]
    for override in ref["overrides"]:
        command += ["--set", override]
    assert main(command) == 0
    _, gan, _ = load_model(tmp_path / "imported.pt")
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(ref["input_seed"]))
    x = x * 2 - 1
    with torch.no_grad():
        fake, score = gan.nets["G"].eval()(x), gan.nets["D"].eval()(x)
    assert (fake[0, :, :4, :4].flatten() - torch.tensor(ref["G"])).abs().max().item() < 1e-5
    assert abs(fake.sum().item() - ref["G_sum"]) < 1e-2
    assert (score.flatten() - torch.tensor(ref["D"])).abs().max().item() < 1e-5
    assert load_checkpoint(tmp_path / "imported.pt")["imported"]["networks"]["F"] == "F"
