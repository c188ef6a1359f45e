"""The spec's analysis answers graph questions once; translate and evaluate ask it."""

from pathlib import Path

import pytest

from ganbuilder.evaluate.registry import EVALUATORS
from ganbuilder.evaluate.translation import translation_tensors
from ganbuilder.spec import load_spec, load_spec_text
from ganbuilder.translate import find_generator

ROOT = Path(__file__).resolve().parent.parent


def _reordered_cyclegan() -> str:
    """specs/cyclegan.yaml with the identity tensors first in `forward`, idt_A = G_BA(real_A)
    leading: a rule that took the first NET(real_A) would pick G_BA for AtoB."""
    text = (ROOT / "specs" / "cyclegan.yaml").read_text()
    idt = "  idt_B: G_AB(real_B)    # G_AB should leave an image that is already in B alone\n" \
          "  idt_A: G_BA(real_A)\n"
    assert idt in text
    first = "  idt_A: G_BA(real_A)\n  idt_B: G_AB(real_B)\n"
    return text.replace(idt, "").replace("forward:\n", "forward:\n" + first)


def test_reordered_cyclegan_still_translates_a_to_b_with_g_ab():
    spec = load_spec_text(_reordered_cyclegan(), "reordered.yaml", ROOT / "specs")
    first = spec.analysis.order[0]
    assert first == "idt_A" and spec.analysis.forward[first].fn == "G_BA"
    assert find_generator(spec, "AtoB") == "G_AB"
    assert find_generator(spec, "BtoA") == "G_BA"
    assert translation_tensors(spec) == {"AB": "fake_B", "BA": "fake_A"}
    translation = EVALUATORS.get("translation")
    assert translation.applies(spec, spec.tree["data"]) == {"AB": "fake_B", "BA": "fake_A"}


def test_reads_and_needs_data():
    spec = load_spec(ROOT / "specs" / "cyclegan.yaml")
    assert spec.analysis.reads("rec_A") == {"real_A"}
    assert spec.analysis.needs_data(["fake_B"])
    gan = load_spec(ROOT / "specs" / "dcgan.yaml")
    (fake,) = gan.analysis.order
    assert gan.analysis.reads(fake) == {"z"} and not gan.analysis.needs_data([fake])


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "specs").glob("*.yaml")))
def test_terms_and_layers_cover_the_spec(name):
    spec = load_spec(ROOT / "specs" / f"{name}.yaml")
    terms = spec.analysis.terms
    written = [(o, i) for o, obj in spec.tree["objectives"].items()
               for i in range(len(obj["loss"]))]
    assert [(t.objective, t.index) for t in terms] == written
    for objective in spec.tree["objectives"]:
        labels = [t.label for t in spec.analysis.objective_terms(objective)]
        assert len(labels) == len(set(labels)), labels
    for term in terms:
        assert "weight" in term.params and set(term.written) <= set(term.params)
        assert all(n in spec.analysis.sources for n in term.names())
    layers = spec.analysis.layers
    assert all(plan.layers[0].path in layers for plan in spec.analysis.networks.values())
