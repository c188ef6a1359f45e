"""Networks from weights files, frozen networks and layers, the VGG spec parts and the
perceptual term.

tests/data/vgg_torchvision.json holds figures measured by running torchvision's VGG16/19
`features` layout (its make_layers, cfg "D" and "E", as a plain nn.Sequential) on weights
drawn from a seed under torchvision's key names: the taps' sums and first values and the
SRGAN, ESRGAN and pix2pixHD loss values. Weight files here are made by the tests (tiny, or
random draws in VGG's layout); no real VGG weights are used.
"""

from __future__ import annotations

import json
import re

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.compile.model import GAN
from ganbuilder.errors import SpecError, UserError
from ganbuilder.layers.weight_layouts import WEIGHT_LAYOUTS
from ganbuilder.losses import LOSSES, TermContext
from ganbuilder.losses.feature_matching import layer_outputs
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import load_spec
from ganbuilder.spec.pretrained import spec_warnings
from ganbuilder.summary import summarize
from ganbuilder.train.pretrained import RECORD, load_pretrained
from ganbuilder.train.trainer import Trainer

from .conftest import ROOT, SPECS

REFERENCE = json.loads((ROOT / "tests" / "data" / "vgg_torchvision.json").read_text())

# A toy GAN on 2-D points: D's first layer frozen (FreezeD), and a frozen feature network F
# with batch norm and dropout (which act differently in train and eval mode).
TOY = """
version: 1
name: frozen_toy
data: {source: ring8, batch_size: 16}
latent: {z: {dist: normal, shape: [4]}}
networks:
  G: {layers: [{linear: 8}, relu, {linear: 2}]}
  D:
    frozen: [0]
    layers: [{linear: 8}, {leaky_relu: 0.2}, {linear: 8, id: h}, batch_norm, {leaky_relu: 0.2},
             {linear: 1}]
  F:
    frozen: true
    layers: [{linear: 8, id: f1}, batch_norm, {dropout: 0.5}, {relu: , id: feat}]
forward: {fake: G(z)}
objectives:
  D: {updates: [D], loss: [{adversarial: {critic: D, real: real, fake: fake}}]}
  G:
    updates: [G]
    loss:
      - adversarial: {critic: D, fake: fake}
      - perceptual: {network: F, pred: fake, target: real, layers: {f1: 0.5, feat: 1.0}}
training: {steps: 3, log_every: 1, sample_every: 3, checkpoint_every: 3}
"""


def _vgg_spec(write_spec, name: str, weights: str | None = "vgg.pth"):
    """A spec reading the shipped VGG part (32x32 digits through it, as a perceptual term)."""
    file = f"\n    weights: {{file: {weights}}}" if weights else ""
    return write_spec(f"""
        version: 1
        name: vgg_use
        extends: [{ROOT / 'specs' / 'parts' / (name + '.yaml')}, {ROOT / 'specs' / 'gan.yaml'}]
        data: {{source: digits, image_size: 32, channels: 3, batch_size: 2}}
        networks:
          {name}: {{{file.strip() and 'weights: {file: ' + weights + '}'}}}
          G: {{layers: [{{linear: 3072}}, {{reshape: [3, 32, 32]}}, tanh]}}
          D: {{layers: [flatten, {{linear: 1}}]}}
        objectives:
          G:
            updates: [G]
            loss:
              - adversarial: {{critic: D, fake: fake}}
              - perceptual: {{network: {name}, pred: fake, target: real, layers: {{relu1_1: 1}}}}
        """)


def _draw_reference_file(spec, name: str, path) -> tuple[torch.Tensor, ...]:
    """The reference's weights, drawn as its note says, saved under torchvision's keys; and
    its inputs x, y and grey."""
    gen = torch.Generator().manual_seed(REFERENCE["seed"])
    layout = WEIGHT_LAYOUTS.get(f"torchvision_{name}")
    own = GAN(spec).nets[name]
    ids = spec.analysis.networks[name].layer_ids
    state = {}
    for module in sorted(layout.modules, key=lambda m: int(m.split(".")[1])):
        layer = own[ids[layout.modules[module]]]
        for key in ("weight", "bias"):
            shape = getattr(layer, key).shape
            t = torch.randn(shape, generator=gen)
            state[f"{module}.{key}"] = (t * (2.0 / (shape[1] * 9)) ** 0.5 if key == "weight"
                                        else t * 0.1)
    torch.save(state, path)
    x = torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1
    y = torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1
    grey = torch.rand(2, 1, 32, 32, generator=gen) * 2 - 1
    return x, y, grey


@pytest.mark.parametrize("name", ["vgg16", "vgg19"])
def test_the_vgg_parts_have_torchvision_s_parameter_counts(name, write_spec):
    spec = load_spec(_vgg_spec(write_spec, name, weights=None))
    assert summarize(spec)["networks"][name]["params"] == REFERENCE["nets"][name]["params"]


@pytest.mark.parametrize("name", ["vgg16", "vgg19"])
def test_vgg_from_a_torchvision_layout_file_equals_the_reference(name, write_spec, tmp_path):
    spec = load_spec(_vgg_spec(write_spec, name))
    x, y, grey = _draw_reference_file(spec, name, tmp_path / "vgg.pth")
    gan = GAN(spec)
    records = load_pretrained(gan, spec)
    assert records[name]["layout"] == f"torchvision_{name}"
    net = gan.nets[name].eval()
    want = REFERENCE["nets"][name]
    with torch.no_grad():
        taps = dict(zip(want["taps"], layer_outputs(net, [x], list(want["taps"])), strict=True))
        grey_taps = layer_outputs(net, [grey], list(want["grey_taps"]))
    for tap, got in [*taps.items(), *zip(want["grey_taps"], grey_taps, strict=True)]:
        ref = (want["grey_taps"] if got is not taps.get(tap) else want["taps"])[tap]
        assert list(got.shape) == ref["shape"], tap
        assert float(got.double().sum()) == pytest.approx(ref["sum"], rel=1e-4), tap
        assert got.flatten()[:6].tolist() == pytest.approx(ref["first"], abs=1e-4), tap
    term = LOSSES.get("perceptual")
    ctx = TermContext({"x": x, "y": y}, {name: net}, set())
    for form, ref in want["losses"].items():
        params = fill_defaults(term.params, {"network": name, "pred": "x", "target": "y",
                                             "layers": ref["layers"],
                                             "distance": ref["distance"]})
        loss, _ = term.compute(params, ctx)
        assert float(loss) == pytest.approx(ref["value"], rel=1e-4), form


def test_the_perceptual_term_runs_the_network_only_as_far_as_its_deepest_layer():
    net = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3))
    net.layer_ids = {"a": 0, "b": 1, "c": 2}
    calls = []
    net[2].register_forward_hook(lambda *_: calls.append(1))
    a, b = layer_outputs(net, [torch.randn(2, 3)], ["b", "a"])
    assert calls == [] and a.shape == b.shape == (2, 3) and (a >= 0).all()


def _tiny_file(path, shapes: dict[str, tuple]) -> None:
    torch.save({k: torch.randn(s) for k, s in shapes.items()}, path)


TINY_NET = """
version: 1
name: tiny_weights
data: {source: ring8, batch_size: 8}
latent: {z: {dist: normal, shape: [4]}}
networks:
  G: {layers: [{linear: 2}]}
  D:
    weights: {file: d.pth, layout: {body.0: l1, body.2: l2}}
    layers: [{linear: 8, id: l1}, {relu: , id: r1}, {linear: 1, id: l2}]
forward: {fake: G(z)}
objectives:
  D: {updates: [D], loss: [{adversarial: {critic: D, real: real, fake: fake}}]}
  G: {updates: [G], loss: [{adversarial: {critic: D, fake: fake}}]}
training: {steps: 2, log_every: 1, sample_every: 2, checkpoint_every: 2}
"""


def test_a_mapping_layout_loads_the_file_and_the_run_records_its_sha256(write_spec, tmp_path):
    file = write_spec(TINY_NET)
    _tiny_file(tmp_path / "d.pth", {"body.0.weight": (8, 2), "body.0.bias": (8,),
                                    "body.2.weight": (1, 8), "body.2.bias": (1,),
                                    "head.weight": (3, 3)})  # a module no layer takes
    saved = torch.load(tmp_path / "d.pth", weights_only=True)
    spec = load_spec(file)
    trainer = Trainer(spec, tmp_path / "run")
    assert torch.equal(trainer.gan.nets["D"][0].weight, saved["body.0.weight"])
    assert torch.equal(trainer.gan.nets["D"][2].bias, saved["body.2.bias"])
    trainer.run()
    record = json.loads((tmp_path / "run" / RECORD).read_text())
    import hashlib
    assert record["D"] == {"file": str((tmp_path / "d.pth").resolve()), "layout": "the mapping "
                           "given", "sha256": hashlib.sha256((tmp_path / "d.pth").read_bytes())
                           .hexdigest()}
    # A resumed run takes the weights from its checkpoint: the file is no longer needed.
    (tmp_path / "d.pth").unlink()
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    resumed = Trainer(load_spec(file), tmp_path / "run", resume=last, steps=3)
    resumed.run()
    assert resumed.step == 3


def test_a_wrong_file_says_which_keys_and_shapes_differ(write_spec, tmp_path, capsys):
    file = write_spec(TINY_NET)
    _tiny_file(tmp_path / "d.pth", {"body.0.weight": (8, 3), "body.0.bias": (8,),
                                    "body.2.weight": (1, 8)})
    assert main(["run", str(file), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"spec\.yaml:\d+:\d+: networks\.D\.weights: .*d\.pth: not the weights of "
                     r"network D under layout the mapping given: 1 missing, e\.g\. "
                     r"body\.2\.bias; shapes differ: body\.0\.weight \(8, 3\) \(expected "
                     r"\(8, 2\)\)", err), err
    assert "Traceback" not in err


def test_a_file_with_pickled_code_or_no_tensors_is_refused(write_spec, tmp_path, capsys):
    file = write_spec(TINY_NET)
    torch.save({"body.0.weight": "not a tensor"}, tmp_path / "d.pth")
    assert main(["run", str(file), "--out", str(tmp_path / "run")]) == 2
    assert "not a state dict" in capsys.readouterr().err


def test_a_missing_file_says_where_to_put_which_file(write_spec, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    file = _vgg_spec(write_spec, "vgg19", weights=None)  # the hub cache's default
    hub = tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert main(["validate", str(file)]) == 0  # a warning: the spec itself is fine
    err = capsys.readouterr().err
    assert "warning: " in err and "parts/vgg19.yaml:" in err and f"are not at {hub}" in err
    assert main(["run", str(file), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert (f"networks.vgg19.weights: the weights of network vgg19 are not at {hub} (torch's "
            "hub cache, the default for torchvision_vgg19); ganbuilder never downloads them: "
            "put vgg19-dcbb9e9d.pth (torchvision's ImageNet weights, https://download.pytorch"
            ".org/models/vgg19-dcbb9e9d.pth) there") in err
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_frozen_parameters_never_reach_an_optimizer_and_frozen_layers_stay_eval(
        write_spec, tmp_path):
    spec = load_spec(write_spec(TOY))
    trainer = Trainer(spec, tmp_path / "run")
    nets = trainer.gan.nets
    frozen = {id(p) for p in [*nets["F"].parameters(), *nets["D"][0].parameters()]}
    before = {k: v.clone() for k, v in [*nets["F"].state_dict().items(),
                                        *nets["D"][0].state_dict().items()]}
    stepped = [p for o in trainer.objectives for g in o.optimizer.param_groups for p in g["params"]]
    assert stepped and not frozen & {id(p) for p in stepped}
    assert all(not p.requires_grad for p in [*nets["F"].parameters(), *nets["D"][0].parameters()])
    trainer.run()  # calls gan.train() before the first step
    assert not nets["F"].training and not any(m.training for m in nets["F"].modules())
    assert not nets["D"][0].training and nets["D"][2].training and nets["D"][3].training
    after = {k: v for k, v in [*nets["F"].state_dict().items(),
                               *nets["D"][0].state_dict().items()]}
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BN statistics
    assert not torch.equal(nets["D"][2].weight, GAN(spec).nets["D"][2].weight)  # D trained
    trainer.gan.train()
    assert not nets["F"][1].training


@pytest.mark.parametrize(("change", "message"), [
    (("  D: {updates: [D]", "  D: {updates: [D, F]"),
     r"objectives\.D\.updates\[1\]: network F is frozen \(networks\.F\.frozen: true\): no "
     r"objective may update it"),
    (("    frozen: [0]", "    frozen: [0, 9]"),
     r"networks\.D\.frozen\[1\]: D has no layer 9, but it has 6 layers"),
    (("    frozen: [0]", "    frozen: {through: hh}"),
     r"networks\.D\.frozen\.through: D has no layer id 'hh' \(its ids: h\)"),
    (("    frozen: [0]", "    frozen: true"),
     r"objectives\.D\.updates\[0\]: network D is frozen"),
    (("    frozen: [0]", "    frozen: [0, 2, 3, 5]"),
     r"objectives\.D\.updates: the networks it updates have no parameter left to train"),
    (("training: {", "training: {ema: {networks: [F]}, "),
     r"training\.ema\.networks\[0\]: network F is frozen"),
])
def test_what_frozen_cannot_mean_is_a_located_error(change, message, write_spec):
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(TOY.replace(*change)))
    assert re.search(r"spec\.yaml:\d+:\d+: " + message, str(caught.value)), str(caught.value)


def test_a_layout_that_fills_no_layer_or_leaves_one_random_is_a_located_error(write_spec):
    with pytest.raises(SpecError, match=r"networks\.D\.weights\.layout: torchvision_vgg16 gives "
                       r"weights to layers with the ids conv1_1, conv1_2, conv2_1, conv2_2, "
                       r"\.\.\., and D has none of them"):
        load_spec(write_spec(TINY_NET.replace("{body.0: l1, body.2: l2}", "torchvision_vgg16")))
    with pytest.raises(SpecError, match=r"networks\.D\.weights\.layout: D's layers l2 hold "
                       "parameters that the mapping given gives no weights to"):
        load_spec(write_spec(TINY_NET.replace(", body.2: l2", "")))


def test_a_random_feature_network_a_loss_reads_is_warned_about(write_spec, capsys):
    file = write_spec(TOY)
    (warning,) = spec_warnings(load_spec(file))
    assert warning.path == "networks.F" and "keeps its random initial weights" in warning.message
    assert "objectives.G.loss[1] perceptual" in warning.message
    assert main(["validate", str(file)]) == 0
    assert re.search(r"warning: .*spec\.yaml:\d+:\d+: networks\.F: network F keeps its random",
                     capsys.readouterr().err)


@pytest.mark.parametrize("file", SPECS, ids=[f.stem for f in SPECS])
def test_no_shipped_spec_is_warned_about(file):
    # (whether a weights file is on this machine is the machine's matter, not the spec's)
    assert spec_warnings(load_spec(file), files=False) == []


def test_parts_merge_in_order_under_the_file(write_spec, tmp_path):
    write_spec("networks:\n  G: {layers: [{linear: 3}]}\n  D: {layers: [{linear: 1}]}\n",
               "part_a.yaml")
    write_spec("networks:\n  G: {layers: [{linear: 2}]}\n", "part_b.yaml")
    file = write_spec("""
        version: 1
        name: parts
        extends: [part_a.yaml, part_b.yaml]
        data: {source: ring8}
        latent: {z: {dist: normal, shape: [2]}}
        forward: {fake: G(z)}
        objectives:
          D: {updates: [D], loss: [{adversarial: {critic: D, real: real, fake: fake}}]}
        training: {steps: 1}
        """)
    spec = load_spec(file)
    assert spec.tree["networks"]["G"]["layers"] == [{"linear": 2}]  # the later part wins
    assert spec.tree["networks"]["D"]["layers"] == [{"linear": 1}]
    with pytest.raises(SpecError, match="base spec not found"):
        load_spec(write_spec(file.read_text().replace("part_b", "part_c"), "other.yaml"))


def test_the_app_s_graphs_and_the_summary_mark_frozen_networks_and_layers(write_spec):
    from ganbuilder.design.graphs import flow_nodes, layer_graph
    from ganbuilder.summary import format_summary

    spec = load_spec(write_spec(TOY))
    lines = {n.lines[0]: n.lines for n in flow_nodes(spec).values() if n.kind == "network"}
    assert lines["F"] == ["F", "features", "🔒 frozen"]
    assert lines["G"] == ["G"] and "🔒 1 frozen layer" in lines["D"]
    nodes, _ = layer_graph(spec.analysis.networks["D"], {0})
    marked = [n.lines[0] for n in nodes.values() if n.lines[0].startswith("🔒")]
    assert marked == ["🔒 0  linear"]
    text = format_summary(spec, summarize(spec))
    assert re.search(r"^F  input .*parameters\)  frozen$", text, re.MULTILINE)
    assert re.search(r"^D  input .*parameters\)  1 frozen layer$", text, re.MULTILINE)


def test_user_error_has_no_traceback_for_a_bad_extends(write_spec):
    with pytest.raises(UserError, match="a list of them"):
        load_spec(write_spec("version: 1\nextends: [1]\n"))


def test_flatten_and_the_run_s_spec_keep_naming_the_weights_file(write_spec, tmp_path):
    from ganbuilder.spec.flatten import flatten_text

    file = write_spec(TINY_NET)
    (tmp_path / "out").mkdir()
    text = flatten_text(file, tmp_path / "out" / "flat.yaml")
    assert "file: ../d.pth" in text
    assert f"file: {tmp_path / 'd.pth'}" in load_spec(file).text()


def test_a_frozen_network_s_memory_counts_its_weights_only(write_spec):
    spec = load_spec(_vgg_spec(write_spec, "vgg19", weights=None))
    memory = summarize(spec)["training_memory"]["networks"]["vgg19"]
    assert memory["params"] == 4 * REFERENCE["nets"]["vgg19"]["params"]  # float32, no Adam
