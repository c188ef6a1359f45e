"""An objective's step computes the tensors its every-step terms read in the `forward`
section's order before the terms run (as the reference loops run their passes), in the
trainer and in the ejected training loop alike, and never a tensor only a resting lazy term
reads."""

from __future__ import annotations

import re

import torch

from ganbuilder.export import eject_source
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer
from tests.conftest import MINIMAL, ROOT, SMALL

# specs/cyclegan.yaml's forward section: fake_B, rec_A, fake_A, rec_B, idt_B, idt_A.
CYCLEGAN_G = ["G_AB", "G_BA", "G_BA", "G_AB", "G_AB", "G_BA"]


def _calls(trainer: Trainer) -> list[str]:
    """The networks' calls of the trainer's next iteration, in order."""
    calls: list[str] = []
    handles = [net.register_forward_hook(lambda *_, name=name: calls.append(name))
               for name, net in trainer.gan.nets.items()]
    try:
        trainer.train_step({})
    finally:
        for handle in handles:
            handle.remove()
    return calls


def test_cyclegan_g_step_runs_the_generators_in_forward_order_before_the_critics(tmp_path):
    spec = load_spec(ROOT / "specs" / "cyclegan.yaml", [*SMALL["cyclegan"], "data.batch_size=1"])
    calls = _calls(Trainer(spec, tmp_path / "run"))
    # The G step (first in training.order): all six generator passes, then the critics the
    # adversarial terms call; the D step then reuses the cached fakes (no generator call).
    assert calls[:8] == [*CYCLEGAN_G, "D_B", "D_A"]
    assert set(calls[8:]) == {"D_A", "D_B"}


def test_ejected_cyclegan_loop_writes_the_passes_in_the_same_order():
    spec = load_spec(ROOT / "specs" / "cyclegan.yaml", SMALL["cyclegan"])
    source = eject_source(spec, SMALL["cyclegan"], with_training=True)
    g_step = source.split("# objective G")[1].split("# objective D")[0]
    written = re.findall(r"nets\['(\w+)'\]", g_step.split("adversarial(")[0])
    assert written == CYCLEGAN_G


LAZY = MINIMAL.replace("""      - linear: 1
forward:
  fake: G(z)
""", """      - linear: 1
  E:
    layers:
      - linear: 2
forward:
  fake: G(z)
  echo: E(fake)
""").replace("""    updates: [G]
    loss:
      - adversarial: {critic: D, fake: fake}
""", """    updates: [G, E]
    loss:
      - adversarial: {critic: D, fake: fake}
      - cycle: {pred: echo, target: real, every: 2}
""")


def test_a_tensor_only_a_resting_lazy_term_reads_is_not_computed(tmp_path, write_spec):
    torch.manual_seed(0)
    trainer = Trainer(load_spec(write_spec(LAZY)), tmp_path / "run")
    assert "E" in _calls(trainer)  # step 0: the lazy term runs and reads echo = E(fake)
    assert "E" not in _calls(trainer)  # step 1: it rests, and nothing computes echo
