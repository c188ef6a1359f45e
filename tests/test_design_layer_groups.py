"""Which layers the layer canvas draws as one group node (ganbuilder.design.layer_groups):
block uses and repeats as written, and the sections a long network is cut into to fit."""

from __future__ import annotations

from ganbuilder.design.layer_groups import (
    Group,
    copies,
    group_lines,
    group_tip,
    sections,
    units,
    written_groups,
)
from tests.test_design_canvas import _model


def _groups(spec: str, network: str):
    model, _ = _model(spec)
    plan = model.spec.analysis.networks[network]
    return plan, written_groups(plan, model.items(network))


def test_a_repeat_of_a_one_layer_block_reads_as_its_layer_times_its_count():
    _, written = _groups("cyclegan", "G_AB")
    assert [(g.key, g.title, g.start, g.stop) for g in written] == [
        ("w:resblock#0", "residual ×9", 10, 19)]
    _, written = _groups("stylegan2", "G")
    titles = [g.title for g in written]
    assert titles[:2] == ["mapping_layer ×7", "g4_skip"] and "g_skip ×3" in titles
    # the same block used twice: each use its own key, kept while the text changes elsewhere
    _, written = _groups("pix2pix", "D")
    assert [(g.key, g.title) for g in written] == [("w:patch_down#0", "patch_down ×2"),
                                                   ("w:patch_down#1", "patch_down")]


def test_each_copy_of_a_repeat_of_a_longer_block_is_a_group_named_by_its_size():
    plan, written = _groups("stylegan2", "G")
    model, _ = _model("stylegan2")
    items = model.items("G")
    synthesis = next(g for g in written if g.title == "g_skip ×3")
    made = copies(plan, synthesis, items[synthesis.item].times, items[synthesis.item].block)
    assert [(c.title, c.start, c.stop) for c in made] == [
        ("g_skip 8 px", 25, 35), ("g_skip 16 px", 35, 45), ("g_skip 32 px", 45, 55)]
    assert all(c.copy and not c.written for c in made)  # no one entry writes a copy
    assert "one copy of a repeat" in group_tip(plan, made[1])
    residual = _groups("cyclegan", "G_AB")[1][0]  # one layer a copy: no copies
    assert copies(plan, residual, 9, "resblock") == []


def test_sections_cut_at_stages_and_keep_written_groups_whole():
    plan, written = _groups("cyclegan", "G_AB")
    shown = units(len(plan.layers), written)
    assert len(shown) == 20 and shown[10] == written[0]  # the repeat, as one unit
    cut = sections(plan, shown, 4)
    # a conv with the norm and activation after it is one stage; the repeat stays apart
    assert [(g.start, g.stop, g.title) for g in cut] == [
        (0, 4, "0–3  conv"), (4, 10, "4–9  conv ×2"),
        (19, 28, "19–27  conv_transpose ×2, conv")]
    assert not any(g.written for g in cut)
    assert len(units(len(plan.layers), cut + written)) == 4
    # every layer is in exactly one unit, in order
    spans = [(u.start, u.stop) if isinstance(u, Group) else (u, u + 1)
             for u in units(len(plan.layers), cut + written)]
    assert [a for a, _ in spans] == [0] + [b for _, b in spans[:-1]] and spans[-1][1] == 28
    assert len(sections(plan, shown, 1)) == 1 and sections(plan, shown, 20) == []


def test_a_collapsed_group_says_its_output_shape_and_parameter_count():
    plan, written = _groups("cyclegan", "G_AB")
    params = [10] * len(plan.layers)
    assert group_lines(plan, written[0], params) == ["residual ×9", "(128, 8, 8) · 90 params"]
    assert group_lines(plan, written[0], [None] * len(plan.layers))[1] == "(128, 8, 8)"
    tip = group_tip(plan, written[0], limit=3).split("\n")
    assert tip[0].startswith("residual ×9: layers 10–18, one entry of the text")
    assert tip[1:] == ["  10  residual  (128, 8, 8)", "  11  residual  (128, 8, 8)",
                       "  12  residual  (128, 8, 8)", "  … 6 more",
                       "double-click, ▸ or Right: expand"]
