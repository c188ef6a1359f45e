"""StarGAN and CUT: a network with several heads, the penalty on a critic's image input, the
multi-label and PatchNCE terms, the multi-domain data, and the published counts."""

from __future__ import annotations

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.compile.model import GAN
from ganbuilder.errors import SpecError
from ganbuilder.losses import LOSSES, TermContext
from ganbuilder.losses.builtin_terms import interpolate_penalty
from ganbuilder.losses.feature_matching import layer_outputs
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize
from tests.conftest import ROOT, TINY

STARGAN = ROOT / "specs/stargan.yaml"
CUT = ROOT / "specs/cut.yaml"
STARGAN_PAPER = ["params.image_size=128", "params.channels=3", "params.conv_dim=64",
                 "params.g_blocks=6"]
CUT_PAPER = ["params.image_size=256", "params.nc=3", "params.ngf=64", "params.ndf=64",
             "params.nce_units=256"]


def _counts(path, overrides) -> dict[str, int]:
    return {n: v["params"] for n, v in summarize(load_spec(path, overrides))["networks"].items()}


def test_stargan_counts_equal_yunjey_stargan():
    assert _counts(STARGAN, STARGAN_PAPER) == {"G": 8_430_528, "D": 44_762_048}


def test_cut_counts_equal_taesungp_cut():
    assert _counts(CUT, CUT_PAPER) == {"G": 11_378_179, "D": 2_764_737, "F": 560_384}


def test_a_call_returns_the_first_output_and_a_head_is_read_by_its_id():
    spec = load_spec(STARGAN, TINY["stargan"])
    plan = spec.analysis.networks["D"]
    assert plan.outputs == ("src", "cls") and plan.output_shape == (1, 2, 2)
    d = GAN(spec).nets["D"]
    x = torch.randn(3, 1, 16, 16)
    taps = {}
    handle = d.layers[d.layer_ids["cls"]].register_forward_hook(
        lambda m, a, out: taps.setdefault("cls", out))
    assert d(x).shape == (3, 1, 2, 2)  # the score map
    handle.remove()
    assert taps["cls"].shape == (3, 5)  # the domain logits, from the same pass
    ctx = TermContext({"real": x, "label": torch.tensor([0, 4, 2])}, {"D": d}, {"D"})
    params = fill_defaults(LOSSES.get("classification").params,
                           {"classifier": "D", "head": "cls", "input": "real", "labels": "label"})
    loss, metrics = LOSSES.get("classification").compute(params, ctx)
    want = torch.nn.functional.cross_entropy(taps["cls"], torch.tensor([0, 4, 2]))
    assert torch.allclose(loss, want) and "acc/D/label" in metrics


def test_the_penalty_differentiates_the_score_with_respect_to_the_image():
    """D with two heads: the penalty is the one of the score head alone, on the image."""
    torch.manual_seed(0)
    spec = load_spec(STARGAN, TINY["stargan"])
    d = GAN(spec).nets["D"]
    real, fake = torch.randn(2, 1, 16, 16), torch.randn(2, 1, 16, 16)
    alpha = torch.tensor([0.3, 0.8])
    got = interpolate_penalty(d, real, fake, alpha)
    x = (alpha.view(-1, 1, 1, 1) * real + (1 - alpha.view(-1, 1, 1, 1)) * fake).requires_grad_()
    score = d(x)
    (grad,) = torch.autograd.grad(score.sum(), x)
    want = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert torch.allclose(got, want)


BODY_HEADS = [
    "networks.body={layers: [{conv: {out: 4, kernel: 4, stride: 2, padding: 1}}]}",
    "networks.D={layers: [{conv: {out: 1, kernel: 3, padding: 1}}]}",
    "networks.C={layers: [flatten, {linear: 5}]}",
    "forward={fake: 'G(real, c_trg)', rec: 'G(fake, label)', h_real: body(real), "
    "h_fake: body(fake)}",
    "objectives.D.updates=[body, D, C]",
    "objectives.D.loss=[{adversarial: {critic: D, real: h_real, fake: h_fake}}, "
    "{classification: {classifier: C, input: h_real, labels: label}}, "
    "{gradient_penalty: {critic: D, real: h_real, fake: h_fake, weight: 10}}]",
    "objectives.G.loss=[{adversarial: {critic: D, fake: h_fake}}]",
]


def test_a_penalty_on_a_bodys_features_is_a_located_error():
    with pytest.raises(SpecError) as info:
        load_spec(STARGAN, [*TINY["stargan"], *BODY_HEADS])
    problems = [p for p in info.value.problems if "gradient_penalty" in p.path]
    assert problems and problems[0].path == "objectives.D.loss[2].gradient_penalty.real"
    assert problems[0].location is not None
    assert "features computed by body" in problems[0].message
    assert "networks.D.outputs" in problems[0].message


def test_a_head_the_network_does_not_declare_is_named():
    with pytest.raises(SpecError) as info:
        load_spec(STARGAN, [*TINY["stargan"], "objectives.D.loss[1].classification.head=src2"])
    assert "D has no head 'src2' (its outputs: src, cls)" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_spec(STARGAN, [*TINY["stargan"], "networks.D.outputs=[src, clz]"])
    assert "networks.D.outputs[1]: output 'clz' is no id of a top-level layer" in str(info.value)


def test_multilabel_is_stargans_celeba_domain_loss():
    torch.manual_seed(1)
    logits = torch.randn(6, 5, requires_grad=True)
    target = (torch.rand(6, 5) > 0.5).float()
    head = torch.nn.Identity()
    params = fill_defaults(LOSSES.get("multilabel").params,
                           {"classifier": "C", "input": "x", "labels": "y"})
    loss, metrics = LOSSES.get("multilabel").compute(
        params, TermContext({"x": logits, "y": target}, {"C": head}, {"C"}))
    # yunjey/stargan: binary_cross_entropy_with_logits(size_average=False) / batch size
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="sum") / 6
    assert torch.allclose(loss, want)
    assert float(metrics["acc/C/y"]) == float(((logits > 0).float() == target).float().mean())


def test_multilabel_checks_the_label_vectors_against_the_head():
    overrides = [*TINY["stargan"], "objectives.D.loss[1]={multilabel: {classifier: D, head: cls, "
                 "input: real, labels: attributes}}"]
    load_spec(STARGAN, overrides)  # digit_domains' one-hot attributes: 5 per image, 5 logits
    with pytest.raises(SpecError, match="multilabel reads a vector of 0/1 attributes"):
        load_spec(STARGAN, [*overrides[:-1], "objectives.D.loss[1]={multilabel: {classifier: D, "
                            "head: cls, input: real, labels: label}}"])
    with pytest.raises(SpecError, match="D outputs \\(4\\) but 'attributes' holds 5"):
        load_spec(STARGAN, [*overrides, "params.domains=4"])  # the data keeps its 5


def test_cut_reads_generator_layers_and_stops_after_the_deepest():
    spec = load_spec(CUT, TINY["cut"])
    g = GAN(spec).nets["G"]
    ran = []
    last = g[len(g) - 1]
    handle = last.register_forward_hook(lambda *a: ran.append(1))
    feats = layer_outputs(g, [torch.randn(2, 1, 32, 32)], ["nce0", "nce4", "res4"])
    handle.remove()
    assert [tuple(f.shape[1:]) for f in feats] == [(1, 38, 38), (8, 32, 32), (16, 8, 8)]
    assert not ran  # the decoder never ran (CUT's encode_only)
    plan = spec.analysis.networks["F"]
    assert plan.input_shapes == [(1,), (8,), (16,), (16,), (16,)]


def test_patch_nce_of_a_translation_that_keeps_the_patches_is_low():
    spec = load_spec(CUT, TINY["cut"])
    nets = GAN(spec).nets
    term = next(t for t in spec.analysis.terms if t.kind == "patch_nce")
    x = torch.randn(2, 1, 32, 32)
    same = LOSSES.get("patch_nce").compute(
        term.params, TermContext({"real_A": x, "fake_B": x.clone()}, nets, {"G", "F"}))[0]
    other = LOSSES.get("patch_nce").compute(
        term.params, TermContext({"real_A": x, "fake_B": torch.randn(2, 1, 32, 32)}, nets,
                                 {"G", "F"}))[0]
    assert same < other


def test_patch_nce_names_unknown_layers_and_shapes():
    with pytest.raises(SpecError, match="G has no layer with id 'res99'"):
        load_spec(CUT, [*TINY["cut"], "objectives.G.loss[1].patch_nce.layers[4]=res99"])


def test_more_data_classes_than_a_label_layer_takes_stops_before_training(tmp_path, capsys):
    code = main(["run", "specs/cgan.yaml", "--set", "params.classes=5", "--steps", "2",
                 "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "the data has 10 classes (labels 0-9), more than networks.D.layers[0] (one_hot, " \
        "5 classes) takes" in err and "cgan.yaml:" in err
    assert not (tmp_path / "run" / "samples").exists()  # nothing ran, not even the grid


def test_a_label_read_in_forward_is_checked_too(tmp_path, capsys):
    # G draws the sample grid from the data's labels: the step-0 grid would fail in torch.
    code = main(["run", str(STARGAN), *[a for o in TINY["stargan"] for a in ("--set", o)],
                 "--set", "params.domains=4",  # the data keeps its 5 domains
                 "--steps", "1", "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert "the data has 5 classes" in err and "networks.G.layers[0] (one_hot, 4 classes)" in err


def test_digit_domains_show_each_digit_in_every_look():
    from ganbuilder.data import open_source

    src = open_source({"source": "digit_domains", "image_size": 16}, ROOT)
    batch = src.fixed_batch(5)  # items 0-4: the first digit in the five looks
    assert batch["label"].tolist() == [0, 1, 2, 3, 4] and len(set(batch["digit"].tolist())) == 1
    plain, inverted, thick, outline, dim = batch["real"]
    assert torch.equal(inverted, -plain) and torch.allclose(dim, plain * 0.5 - 0.5)
    assert (thick >= plain).all() and set(outline.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(batch["attributes"], torch.eye(5))
    assert src.class_names == ["plain", "inverted", "thick", "outline", "dim"]


def test_celeba_attributes_pick_the_named_columns_and_a_random_target(tmp_path):
    from ganbuilder.data import open_source
    from tests.conftest import expect_data_error
    from tests.test_data import ATTRIBUTES, write_celeba

    write_celeba(tmp_path / "celeba", 6)
    cfg = {"source": "celeba_attributes", "root": "celeba", "attributes": ["Male", "Black_Hair"],
           "image_size": 8, "crop_size": 16, "test_size": 0}
    src = open_source(cfg, tmp_path)
    rows = [line.split() for line in
            (tmp_path / "celeba" / "list_attr_celeba.txt").read_text().splitlines()[2:]]
    # columns: the file name, 5_o_Clock_Shadow, Black_Hair, Blond_Hair, Male, Young
    want = torch.tensor([[float(r[4] == "1"), float(r[2] == "1")] for r in rows])
    batch = src.fixed_batch(6)
    assert torch.equal(batch["attributes"], want)
    assert torch.equal(batch["target"], want.roll(-1, 0))  # grids: the next image's
    drawn = src.sampler(6, seed=0).next()
    assert drawn["real"].shape == (6, 3, 8, 8) and drawn["target"].shape == (6, 2)
    expect_data_error({**cfg, "attributes": ["Male", "Blond_Hiar"]}, tmp_path,
                      "data.attributes.1", "has no attribute 'Blond_Hiar'", "Blond_Hair")
    expect_data_error({**cfg, "root": "nowhere"}, tmp_path, "data.root", "data folder not found")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "list_attr_celeba.txt").write_text(f"1\n{' '.join(ATTRIBUTES)}\nx.jpg 1\n")
    expect_data_error({**cfg, "root": "bad", "attributes": ATTRIBUTES}, tmp_path, "data.root",
                      "list_attr_celeba.txt:3: expected a file name and 3 values of 1 or -1")


def test_translate_to_a_chosen_domain(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    run = tmp_path / "run"
    assert main(["run", str(STARGAN), *[a for o in TINY["stargan"] for a in ("--set", o)],
                 "--steps", "1", "--quiet", "--out", str(run)]) == 0
    images = tmp_path / "in"
    images.mkdir()
    for i in range(2):
        Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(images / f"d{i}.png")
    ckpt = str(run / "checkpoints" / "last.pt")
    outs = {}
    for domain in ("inverted", "4"):
        out = tmp_path / f"out_{domain}"
        assert main(["translate", ckpt, "--input", str(images), "--out", str(out),
                     "--domain", domain]) == 0
        outs[domain] = np.asarray(Image.open(out / "d1.png"))
        assert sorted(p.name for p in out.iterdir()) == ["d0.png", "d1.png"]
    assert outs["inverted"].shape[:2] == (16, 16)
    assert not np.array_equal(outs["inverted"], outs["4"])  # the domain reaches G
    capsys.readouterr()
    assert main(["translate", ckpt, "--input", str(images), "--out", str(tmp_path / "x"),
                 "--domain", "invertd"]) == 2
    err = capsys.readouterr().err
    assert "--domain 'invertd' is not one of the domains: plain, inverted, thick, outline, dim" \
        in err and "inverted" in err


def _reference_weights(table: list, seed: int) -> dict:
    """Seeded weights for the reference's state-dict keys, as tests/data's outputs were made
    with (the reference models ran in that session, loaded with these weights by key)."""
    g = torch.Generator().manual_seed(seed)
    return {ref_key: torch.randn(shape, generator=g) * 0.2 for ref_key, _, shape in table}


def _load(nets, tables: dict, seeds: dict) -> None:
    for name, table in tables.items():
        w = _reference_weights(table, seeds[name])
        nets[name].load_state_dict({**nets[name].state_dict(),
                                    **{ours: w[theirs] for theirs, ours, _ in table}})


def test_stargan_equals_yunjey_stargan_with_its_weights():
    import json

    from ganbuilder.losses.feature_matching import layer_output

    ref = json.loads((ROOT / "tests/data/stargan_yunjey.json").read_text())
    nets = GAN(load_spec(STARGAN, ref["overrides"])).nets
    g = torch.Generator().manual_seed(ref["input_seed"])
    x = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    c = torch.tensor(ref["labels"])
    _load(nets, ref["tables"], {"G": 1, "D": 2})
    # Instance statistics, as the reference computes them: it never switches to eval mode.
    for mode in ("train", "eval"):
        for net in nets.values():
            net.train(mode == "train")
        with torch.no_grad():
            out, src = nets["G"](x, c), nets["D"](x)
            cls = layer_output(nets["D"], "cls", [x])
        want = ref["train"]
        torch.testing.assert_close(out[0, :, :4, :4].flatten(), torch.tensor(want["G"]),
                                   atol=1e-4, rtol=0)
        assert abs(out.sum().item() - want["G_sum"]) < 1e-2
        torch.testing.assert_close(src.flatten(), torch.tensor(want["D_src"]), atol=1e-4, rtol=0)
        torch.testing.assert_close(cls.flatten(), torch.tensor(want["D_cls"]), atol=1e-4, rtol=0)


def test_cut_equals_taesungp_cut_with_its_weights():
    import json

    ref = json.loads((ROOT / "tests/data/cut_taesungp.json").read_text())
    spec = load_spec(CUT, ref["overrides"])
    nets = GAN(spec).nets
    _load(nets, ref["tables"], {"G": 1, "D": 2, "F": 3})
    g = torch.Generator().manual_seed(ref["input_seed"])
    x = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    with torch.no_grad():
        fake, score = nets["G"](x), nets["D"](x)
        torch.testing.assert_close(fake[0, :, :4, :4].flatten(), torch.tensor(ref["G"]),
                                   atol=1e-4, rtol=0)
        assert abs(fake.sum().item() - ref["G_sum"]) < 1e-2
        torch.testing.assert_close(score.flatten(), torch.tensor(ref["D"]), atol=1e-4, rtol=0)
        # PatchNCE on (x, G(x)) with the positions the reference was given
        term = next(t for t in spec.analysis.terms if t.kind == "patch_nce")
        draws = torch.Generator().manual_seed(ref["uniform_seed"])
        ctx = TermContext({"real_A": x, "fake_B": fake}, nets, {"G", "F"},
                          uniform=lambda n, device: torch.rand(n, generator=draws))
        loss = LOSSES.get("patch_nce").compute(term.params, ctx)[0]
    assert abs(loss.item() - ref["patch_nce"]) < 1e-4


def test_evaluate_judges_translations_to_other_domains(tmp_path, monkeypatch):
    from ganbuilder.evaluate import domains
    from ganbuilder.evaluate.dispatch import evaluate_checkpoint

    run = tmp_path / "run"
    assert main(["run", str(STARGAN), *[a for o in TINY["stargan"] for a in ("--set", o)],
                 "--steps", "1", "--quiet", "--out", str(run)]) == 0
    seen = []

    class Zeros:  # a classifier that says "domain 0" / "digit 0" for everything
        accuracy = 1.0

        def predict(self, images):
            seen.append(images.shape)
            return torch.zeros(len(images), dtype=torch.long)

    monkeypatch.setattr(domains, "digit_classifier", lambda *a, **k: Zeros())
    out = evaluate_checkpoint(run / "checkpoints" / "last.pt", n=200)
    assert out["kind"] == "domain_translation" and out["n"] == 200
    assert seen == [(200, 1, 16, 16)] * 2
    # Targets are other domains than the image's own, uniformly: domain 0 for 4 in 5 of the
    # images whose own domain is not 0, 1 in 4 of those.
    assert 0.1 < out["domain_accuracy"] < 0.3
    assert 0.0 <= out["digit_kept"] <= 1.0
