"""InfoGAN: a body shared by D and Q through forward tensors, its codes and their checks."""

from pathlib import Path

import pytest
import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.data.latent import sample_latent
from ganbuilder.errors import SpecError
from ganbuilder.sampling import LatentCode, latent_codes
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize
from ganbuilder.train.trainer import Trainer

from .conftest import TINY

SPEC = "specs/infogan.yaml"


@pytest.fixture
def spec():
    return load_spec(SPEC, [*TINY["infogan"], "data.batch_size=8"])


def _inputs(spec, n: int = 8) -> dict[str, torch.Tensor]:
    latent = sample_latent(spec.tree["latent"], n, torch.Generator().manual_seed(0),
                           torch.device("cpu"))
    return {"real": torch.rand(n, 1, 16, 16) * 2 - 1, **latent}


def test_d_and_q_train_one_body(spec, tmp_path):
    trainer = Trainer(spec, tmp_path / "run")
    body = list(trainer.gan.nets["body"].parameters())
    trained = {o.name: [p for g in o.optimizer.param_groups for p in g["params"]]
               for o in trainer.objectives}
    # The critic's optimizer holds the body's very tensors; G's objective trains G and Q only.
    assert all(any(p is q for q in trained["D"]) for p in body)
    assert not any(p is q for p in body for q in trained["G"])
    counts = {name: sum(p.numel() for p in net.parameters())
              for name, net in trainer.gan.nets.items()}
    assert sum(p.numel() for p in trained["D"]) == counts["body"] + counts["D"]
    assert sum(p.numel() for p in trained["G"]) == counts["G"] + counts["Q"]
    assert summarize(spec)["params"] == sum(counts.values())

    calls = []
    trainer.gan.nets["body"].register_forward_hook(lambda *args: calls.append(1))
    before = [p.detach().clone() for p in body]
    trainer.train_step({})
    # D's step runs the body on real and on fake; G's step runs it once on fake, and both
    # heads (D's score and Q's codes) read that one output.
    assert len(calls) == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, body, strict=True))


def test_critic_backward_stops_at_the_shared_body(spec):
    gan = GAN(spec)
    cache = TensorCache(gan, _inputs(spec))
    d_step = frozenset({"body", "D"})
    gan.nets["D"](cache.get("h_fake", d_step)).mean().backward()
    assert all(p.grad is None for p in gan.nets["G"].parameters())
    assert all(p.grad is not None for p in gan.nets["body"].parameters())
    fake = cache.values["fake"]
    cache.consumed(d_step)
    # G's step needs the graph through G again: the body is rerun on the same fake, whose
    # graph the critic's backward left intact.
    g_step = frozenset({"G", "Q"})
    h_fake = cache.get("h_fake", g_step)
    (gan.nets["D"](h_fake).mean() + gan.nets["Q"](h_fake).mean()).backward()
    assert cache.values["fake"] is fake
    assert all(p.grad is not None for p in gan.nets["G"].parameters())
    cache.consumed(g_step)
    assert cache.get("h_fake", g_step) is not h_fake  # spent by that backward: recomputed


def test_latent_codes_are_the_mutual_info_terms_codes(spec):
    assert latent_codes(spec) == [LatentCode("c", True, 10), LatentCode("u", False, 2)]
    assert latent_codes(load_spec("specs/cgan.yaml")) == []


def _problems(write_spec, *replacements: tuple[str, str]) -> list:
    text = Path(SPEC).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(text))
    return err.value.problems


TERM = "objectives.G.loss[1].mutual_info"
TERM_TEXT = "mutual_info: {q: Q, fake: h_fake, categorical: c, continuous: u}"


def test_q_output_must_match_the_codes(write_spec):
    (p,) = _problems(write_spec, ("linear: ${codes + continuous}", "linear: ${codes}"))
    assert p.path == f"{TERM}.q"
    assert p.message == ("Q outputs (10) but mutual_info reads 12 values from it: 10 logits "
                         "for c and 2 means for u")
    lines = Path(SPEC).read_text(encoding="utf-8").splitlines()
    assert p.location.line == next(i for i, line in enumerate(lines, 1) if TERM_TEXT in line)


def test_codes_must_be_codes(write_spec):
    problems = _problems(write_spec, (TERM_TEXT, "mutual_info: {q: Q, fake: h_fake, "
                                                 "categorical: z, continuous: c}"))
    by_path = {p.path: p.message for p in problems}
    assert by_path == {
        f"{TERM}.categorical": "'z' is not a categorical latent (Q's logits are read against "
                               "its classes)",
        f"{TERM}.continuous": "'c' holds one label per sample; a categorical code goes under "
                              "'categorical'",
    }
    (p,) = _problems(write_spec, (TERM_TEXT, "mutual_info: {q: Q, fake: h_fake}"))
    assert p.path == TERM and p.message.startswith("mutual_info needs a 'categorical' code")
    (p,) = _problems(write_spec, (TERM_TEXT, "mutual_info: {q: Q, fake: h_fak, categorical: c}"))
    assert p.path == f"{TERM}.fake" and "unknown tensor 'h_fak'" in p.message
    (p,) = _problems(write_spec, (TERM_TEXT, "mutual_info: {q: Q, fake: h_fake, categorical: cc}"))
    assert p.path == f"{TERM}.categorical" and "unknown tensor 'cc'" in p.message
