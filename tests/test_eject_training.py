"""`eject --with-training`: the written loop trains exactly as ganbuilder's trainer does.

For every shipped spec, every registered loss term (each in a shipped spec or a variant of
one) and the options none of them uses (packing, relativistic losses), the ejected networks
start from the trainer's weights and both sides take the same batches; after a few
iterations every weight, batch norm statistic and averaged weight (`training.ema`) agrees. A
plugin's term is written like a built-in one; what the loop cannot copy (a relativistic form
of a loss that has none, a term reading a global it cannot copy) is refused with its place in
the spec.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.errors import UserError
from ganbuilder.export import eject_source
from ganbuilder.losses import LOSSES
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer
from tests import plugin_term as term_plugin
from tests.conftest import ROOT, SMALL, SPECS, import_file

STEPS = 3


class _Batches:
    """The trainer's sampler, replaying batches drawn once, so both sides see the same data."""

    def __init__(self, batches: list[dict]):
        self._it = iter(batches)

    def next(self) -> dict:
        return next(self._it)

    __next__ = next

    def close(self) -> None:
        pass


FEATURE_MATCHING = ["objectives.G.loss=[{feature_matching: {critic: D, layer: h, real: real, "
                    "fake: fake}}, {mutual_info: {q: Q, fake: fake, categorical: c}}]",
                    "networks.D.layers[1]={leaky_relu: 0.2, id: h}", "params.pack=1"]
# What no shipped spec shows on its own: feature matching, packing in a plain GAN, the
# relativistic forms.
VARIANTS = {
    "feature_matching": ("gan_ring8", [*SMALL.get("gan_ring8", []), *FEATURE_MATCHING]),
    # Reviewed cases: a repeated objective before others (its loop must end where it does),
    # a weighted sum as a term's value, BEGAN with k moving from the first step.
    "repeat_first": ("cyclegan", [*SMALL["cyclegan"], "training.order=[D, G]",
                                  "objectives.D.repeat=2"]),
    "shared_body_repeated": ("infogan", [*SMALL["infogan"], "objectives.D.repeat=3"]),
    "weighted_began": ("began", [*SMALL["began"], "objectives.D.loss[0].began.weight=0.5",
                                 "objectives.D.loss[0].began.k_init=0.5"]),
    # A frozen feature network read by the perceptual term, and a critic's first layer frozen.
    "perceptual_frozen": ("pix2pix", [
        *SMALL["pix2pix"], "networks.D.frozen=[0]",
        "networks.V={frozen: true, layers: [{conv: {out: 4, kernel: 3, padding: 1}, id: c1}, "
        "{relu: , id: r1}, batch_norm, {conv: {out: 4, kernel: 3, padding: 1}, id: c2}]}",
        "objectives.G.loss=[{adversarial: {critic: D, fake: fake_AB}}, {perceptual: {network: V, "
        "pred: fake_B, target: real_B, layers: {r1: 0.5, c2: 1.0}, distance: mse}}]"]),
    "stargan_multilabel": ("stargan", [*SMALL["stargan"], "objectives.D.loss[1]={multilabel: "
                           "{classifier: D, head: cls, input: real, labels: attributes}}"]),
    # StyleGAN2-ADA's ramped-up average (decay 0.99 would move it a hundredth per step).
    "ema_rampup": ("dcgan", [*SMALL["dcgan"], "training.ema={networks: [G], decay: 0.99, "
                             "rampup: 0.5}"]),
    "pacgan": ("gan", ["objectives.D.loss[0].adversarial.pack=2",
                       "objectives.G.loss[0].adversarial.pack=2"]),
    "ragan": ("dcgan", [*SMALL["dcgan"], "objectives.D.loss[0].adversarial.relativistic=average",
                        "objectives.G.loss[0].adversarial.relativistic=average",
                        "objectives.G.loss[0].adversarial.real=real"]),
    "rsgan_hinge": ("dcgan", [*SMALL["dcgan"], "gan_loss=hinge",
                              "objectives.D.loss[0].adversarial.relativistic=standard",
                              "objectives.G.loss[0].adversarial.relativistic=standard",
                              "objectives.G.loss[0].adversarial.real=real"]),
}
# A written loop refuses a layer the trainer adapts (the ada layer's p, tests/test_ada.py): such a
# spec's recipe is checked with that layer left out.
WITHOUT_ADAPTED = {"stylegan2_ada": ["params.augment=none"]}
CASES = [(f.stem, f, [*SMALL.get(f.stem, []), *WITHOUT_ADAPTED.get(f.stem, [])])
         for f in SPECS] + [
    (name, ROOT / f"specs/{base}.yaml", extra) for name, (base, extra) in VARIANTS.items()]


@pytest.mark.parametrize(("case", "file", "overrides"), CASES, ids=[c[0] for c in CASES])
def test_the_ejected_loop_trains_as_the_trainer_does(case, file, overrides, tmp_path):
    _trains_as_the_trainer(load_spec(file, overrides), overrides, tmp_path, case)


@pytest.fixture(scope="module")
def kinds_by_case() -> dict[str, set[str]]:
    return {case: {t.kind for t in load_spec(file, overrides).analysis.terms}
            for case, file, overrides in CASES}


@pytest.mark.parametrize("kind", LOSSES.names())
def test_every_registered_term_is_trained_by_a_case(kind, kinds_by_case):
    # The case above that trains `kind` proves its written loop; a new term adds a shipped
    # spec or a variant using it.
    assert any(kind in kinds for kinds in kinds_by_case.values()), f"no case trains {kind}"


@pytest.fixture
def plugin_term():
    """tests/plugin_term.py's term registered for one test, as a plugin registers it."""
    with term_plugin.registered() as entry:
        yield entry.name


def test_a_plugin_term_is_written_and_trains_as_the_trainer_does(plugin_term, tmp_path):
    overrides = [*SMALL["dcgan"], "objectives.G.loss=[{adversarial: {critic: D, fake: fake}}, "
                 "{score_moments: {critic: D, real: real, fake: fake, weight: 0.5}}]"]
    spec = load_spec(ROOT / "specs/dcgan.yaml", overrides)
    assert [t.kind for t in spec.analysis.objective_terms("G")] == ["adversarial", plugin_term]
    text = eject_source(spec, overrides, with_training=True)
    assert "def score_moments(" in text and "def moment_gap(" in text
    _trains_as_the_trainer(spec, overrides, tmp_path, plugin_term)


def _trains_as_the_trainer(spec, overrides: list[str], tmp_path, case: str) -> None:
    """Eject `spec` with its loop, start it from the trainer's weights, feed both the same
    batches and compare every weight, statistic and average after STEPS iterations."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "model.py"
    path.write_text(eject_source(spec, overrides, with_training=True))
    module = import_file(path)
    trainer = Trainer(spec, tmp_path / "run")
    repeats = sum(spec.tree["objectives"][n].get("repeat", 1) for n in spec.objective_order)
    batches = [trainer.sampler.next() for _ in range(STEPS * repeats)]
    trainer.sampler.close()
    trainer.sampler = _Batches(batches)
    nets = {}
    for name, cls in module.NETWORKS.items():
        nets[name] = cls()
        nets[name].load_state_dict(trainer.gan.nets[name].state_dict())
    loop = module.Training(nets, _Batches(batches), "cpu", spec.training["seed"],
                           spec.training["steps"])
    for step in range(STEPS):
        torch.manual_seed(100 + step)  # dropout and DiffAugment draw from the global stream
        trainer.train_step({})
        torch.manual_seed(100 + step)
        losses = loop.train_step()
        assert set(losses) == set(spec.objective_order)
        assert all(torch.isfinite(v) for v in losses.values())
    for name, net in nets.items():
        ours = trainer.gan.nets[name].state_dict()
        for key, value in net.state_dict().items():
            torch.testing.assert_close(value, ours[key], rtol=1e-5, atol=1e-6,
                                       msg=f"{case}: {name}.{key}")
        if trainer.ema is not None and name in trainer.ema.shadow:  # training.ema's average
            for key, value in loop.average[name].items():
                torch.testing.assert_close(value, trainer.ema.shadow[name][key], rtol=1e-5,
                                           atol=1e-6, msg=f"{case}: average of {name}.{key}")
        changed = any(not torch.equal(a, b) for a, b in zip(
            net.state_dict().values(), module.NETWORKS[name]().state_dict().values(),
            strict=True))
        assert changed or not list(net.parameters()), f"{name} did not train"


def test_spec_names_never_collide_with_the_files_own(tmp_path):
    # An objective named like a tensor, a latent named like a builtin the file calls.
    gan = (ROOT / "specs/gan.yaml").read_text()
    gan = gan.replace("objectives:\n  D:", "objectives:\n  fake:")
    (tmp_path / "gan.yaml").write_text(gan)
    _trains_as_the_trainer(load_spec(tmp_path / "gan.yaml"), [], tmp_path / "a", "objective")
    dcgan = (ROOT / "specs/dcgan.yaml").read_text()
    dcgan = dcgan.replace("  z: {dist", "  len: {dist").replace("G(z)", "G(len)")
    (tmp_path / "dcgan.yaml").write_text(dcgan)
    (tmp_path / "wgan_gp.yaml").write_text((ROOT / "specs/wgan_gp.yaml").read_text())
    spec = load_spec(tmp_path / "wgan_gp.yaml", SMALL["wgan"])
    assert "len" in spec.analysis.tensor_shapes
    _trains_as_the_trainer(spec, SMALL["wgan"], tmp_path / "b", "latent")


def test_the_loop_copies_the_schedule_and_clipping_and_is_ruff_clean(tmp_path):
    overrides = [*SMALL["wgan"], "training.schedule={linear_decay: {start: 1}}"]
    spec = load_spec(ROOT / "specs/wgan.yaml", overrides)
    path = tmp_path / "wgan_model.py"
    path.write_text(eject_source(spec, overrides, with_training=True))
    text = path.read_text()
    assert "def linear_decay_lr(" in text and "p.clamp_(-0.01, 0.01)" in text
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config",
                             str(ROOT / "pyproject.toml"), str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    module = import_file(path)
    batches = iter([{"real": torch.rand(64, 1, 16, 16) * 2 - 1} for _ in range(5 * 4)])
    nets = {name: cls() for name, cls in module.NETWORKS.items()}
    loop = module.Training(nets, batches, "cpu", 0, steps=4)
    for _ in range(4):
        loop.train_step()
    assert all(p.abs().max() <= 0.01 for p in nets["D"].parameters())
    # linear decay from step 1 of 4: the lr the last step used is a third of the first's
    assert loop.optimizers["G"].param_groups[0]["lr"] == pytest.approx(5e-5 / 3)


def test_cli_writes_the_loop_and_refuses_what_the_trainer_cannot_run(tmp_path, capsys):
    out = tmp_path / "m.py"
    assert main(["eject", str(ROOT / "specs/gan.yaml"), "--with-training", "--out",
                 str(out)]) == 0
    module = import_file(out)
    batches = iter([{"real": torch.rand(128, 64) * 2 - 1} for _ in range(3)])
    nets = module.train(batches, steps=3, log_every=1)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("3 {'D': ") and set(nets) == set(module.NETWORKS)
    relativistic_wgan = ["--set", "gan_loss=wgan",
                         "--set", "objectives.D.loss[0].adversarial.relativistic=average"]
    assert main(["eject", str(ROOT / "specs/dcgan.yaml"), *relativistic_wgan, "--with-training",
                 "--out", str(tmp_path / "b.py")]) == 2
    err = capsys.readouterr().err
    assert "dcgan.yaml:" in err and "objectives.D.loss[0]" in err
    assert "cannot write a relativistic wgan loss" in err
    assert not (tmp_path / "b.py").exists()


def test_every_written_loop_is_ruff_clean(tmp_path):
    paths = []
    for case, file, overrides in CASES:
        paths.append(tmp_path / f"{case}_model.py")
        paths[-1].write_text(eject_source(load_spec(file, overrides), overrides,
                                          with_training=True))
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config",
                             str(ROOT / "pyproject.toml"), *map(str, paths)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_plugin_term_is_gone_after_its_test():
    assert term_plugin.NAME not in LOSSES


def test_a_term_the_loop_cannot_write_is_named_with_its_place(plugin_term, monkeypatch):
    # A plugin term whose code reads a module-level object that is neither a function nor a
    # class (here a table) cannot be copied into the file: refused where the spec names it.
    monkeypatch.setattr(term_plugin, "moment_gap", {"not": "copyable"})
    overrides = [*SMALL["dcgan"], "objectives.G.loss=[{adversarial: {critic: D, fake: fake}}, "
                 "{score_moments: {critic: D, real: real, fake: fake}}]"]
    spec = load_spec(ROOT / "specs/dcgan.yaml", overrides)
    with pytest.raises(UserError) as err:
        eject_source(spec, with_training=True)
    message = str(err.value)
    assert "<--set>:1:" in message and "objectives.G.loss[1]" in message  # where it was written
    assert "cannot write the score_moments term" in message and "moment_gap" in message


def test_an_objective_whose_every_term_is_lazy_is_refused_with_its_place():
    # Its optimizer step would hinge on the step count (the trainer skips it while every term
    # rests), and so would what later objectives may reuse: one written step cannot do both.
    overrides = [*SMALL["stylegan2"],
                 "objectives.D.loss=[{r1_penalty: {critic: D, real: real, every: 2}}]"]
    spec = load_spec(ROOT / "specs/stylegan2.yaml", overrides)
    with pytest.raises(UserError) as err:
        eject_source(spec, overrides, with_training=True)
    message = str(err.value)
    assert "objectives.D" in message and "every term is computed every few steps" in message
