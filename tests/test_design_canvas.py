"""The canvas model (ganbuilder.design.canvas) without a screen: each gesture's text edit, applied
to a shipped spec, gives text that loads and means what was asked, with comments and key order
kept."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ganbuilder.design.canvas import CanvasModel, u_layout
from ganbuilder.design.text_edits import TextEdit
from ganbuilder.spec import load_spec, load_spec_text

SPECS = Path(__file__).resolve().parents[1] / "specs"


def _model(name: str) -> tuple[CanvasModel, str]:
    path = SPECS / f"{name}.yaml"
    spec = load_spec(path)
    text = path.read_text()
    return CanvasModel(spec, text, spec.file), text


def _load(model: CanvasModel, edit: TextEdit | str):
    assert isinstance(edit, TextEdit), edit
    text = edit.apply(model.text)
    return load_spec_text(text, model.file, model.spec.base_dir), text


def _kinds(spec, network: str) -> list[str]:
    return [layer.kind for layer in spec.analysis.networks[network].layers]


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


@pytest.mark.parametrize("name", sorted(p.stem for p in SPECS.glob("*.yaml")))
def test_items_cover_every_resolved_layer_once_in_order(name):
    model, text = _model(name)
    lines = text.split("\n")
    for network, plan in model.spec.analysis.networks.items():
        items = model.items(network)
        assert items, network
        assert items[0].start == 0 and items[-1].stop == len(plan.layers)
        for before, after in itertools.pairwise(items):
            assert before.stop == after.start
            if before.editable and after.editable:
                assert before.last < after.first
        for item in items:
            if not item.expands and item.editable:
                assert item.stop - item.start == 1
                layer = plan.layers[item.start]
                # the entry's first line names the layer it writes
                assert layer.kind in lines[item.first - 1], (network, item)


@pytest.mark.parametrize("name", ["dcgan", "pix2pix", "gan", "cgan", "stylegan", "began"])
def test_inserting_every_stateless_layer_after_the_first_keeps_the_text_and_loads(name):
    model, text = _model(name)
    network = next(iter(model.spec.analysis.networks))
    at = model.items(network)[0].stop  # after the first written entry
    image = len(model.spec.analysis.networks[network].layers[at - 1].out_shape) == 3
    for kind in ("relu", "leaky_relu", "batch_norm", "dropout", "tanh") + (("conv",) * image):
        spec, new = _load(model, model.insert_layer(network, at, kind))
        assert _kinds(spec, network)[at] == kind
        old_lines, new_lines = text.split("\n"), new.split("\n")
        assert len(new_lines) == len(old_lines) + 1
        assert _is_subsequence(old_lines, new_lines)  # comments and order untouched


def test_insert_fills_required_parameters_to_keep_the_shape_and_selects_the_first():
    model, _ = _model("dcgan")
    edit = model.insert_layer("G", 3, "conv")  # before the repeat: 256 channels at 4x4
    spec, text = _load(model, edit)
    plan = spec.analysis.networks["G"]
    assert plan.layers[3].kind == "conv" and plan.layers[3].params["out"] == 256
    assert plan.layers[3].out_shape == plan.layers[2].out_shape
    line, start, end = edit.cursor
    assert text.split("\n")[line - 1][start:end] == "256"  # the first required parameter


def test_insert_into_an_inherited_network_is_refused_with_the_reason():
    model, _ = _model("wgan")  # extends dcgan.yaml
    reason = model.insert_layer("G", 1, "relu")
    assert isinstance(reason, str) and "another file" in reason


def test_a_merge_inserted_takes_an_earlier_named_tensor_of_a_shape_it_accepts():
    model, _ = _model("pix2pix")
    # after layer 25 (64 channels at 16x16): `d1` is the named 16x16 tensor
    edit = model.insert_layer("G", 27, "add")
    spec, text = _load(model, edit)
    layer = spec.analysis.networks["G"].layers[27]
    assert layer.kind == "add" and "add: {with: d1}" in text


def test_delete_removes_the_whole_entry_or_with_whole_a_repeat():
    model, text = _model("dcgan")
    spec, new = _load(model, model.delete_layer("G", 1))  # batch_norm
    assert _kinds(spec, "G") == [k for i, k in enumerate(_kinds(model.spec, "G")) if i != 1]
    spec, new = _load(model, model.delete_layer("D", 5, whole=True))  # repeat ×2 of down
    assert len(spec.analysis.networks["D"].layers) == 10 - 6
    assert "block: down" not in new.split("networks:")[1]
    assert new.count("#") == text.count("#")
    assert len(new.split("\n")) == len(text.split("\n")) - 1


def test_a_layer_inside_a_block_use_is_deleted_moved_and_copied_in_the_block():
    model, text = _model("dcgan")
    before = _kinds(model.spec, "D")  # conv leaky [conv bn leaky]x2 conv flatten
    edit = model.delete_layer("D", 6)  # the second copy's batch_norm
    assert "every use of down changes" in edit.summary
    spec, new = _load(model, edit)
    assert _kinds(spec, "D") == ["conv", "leaky_relu", "conv", "leaky_relu", "conv",
                                 "leaky_relu", "conv", "flatten"]
    assert new.split("networks:")[1] == text.split("networks:")[1]  # the use is kept
    spec, new = _load(model, model.move_layer("D", 4, 2))  # leaky_relu first in the block
    assert _kinds(spec, "D")[2:8] == ["leaky_relu", "conv", "batch_norm"] * 2
    assert sorted(new.split("\n")) == sorted(text.split("\n"))
    assert "moves only within the block" in model.move_layer("D", 4, 0)
    assert "inside block down" in model.move_layer("D", 0, 4)
    assert model.copy_layer("D", 3) == ["batch_norm"]
    spec, _ = _load(model, model.duplicate_layer("D", 3))
    assert _kinds(spec, "D")[2:6] == ["conv", "batch_norm", "batch_norm", "leaky_relu"]
    assert len(_kinds(spec, "D")) == len(before) + 2


def test_a_blocks_only_layer_is_not_deleted_from_a_use():
    model, _ = _model("dcgan")
    down = model.text.split("\n  down:")[1].split("\nnetworks:")[0]
    text = model.text.replace(down, down.replace("      - batch_norm\n", "")
                              .replace("      - leaky_relu: 0.2\n", ""))
    spec = load_spec_text(text, model.file, model.spec.base_dir)
    model = CanvasModel(spec, text, model.file)
    assert "only layer" in model.delete_layer("D", 3)


def test_move_reorders_the_yaml_items_and_keeps_comments():
    model, text = _model("dcgan")
    before = _kinds(model.spec, "D")
    spec, new = _load(model, model.move_layer("D", 1, 0))  # leaky_relu above the first conv
    assert _kinds(spec, "D")[:2] == [before[1], before[0]]
    assert sorted(new.split("\n")) == sorted(text.split("\n"))  # the same lines, reordered
    assert new.count("#") == text.count("#")
    # a whole repeat (layers 2..7) moves as one entry, before the leaky_relu
    spec, _ = _load(model, model.move_layer("D", 3, 1, whole=True))
    assert _kinds(spec, "D") == [before[0], *before[2:8], before[1], *before[8:]]
    assert isinstance(model.move_layer("D", 3, 5, whole=True), str)  # into itself


def test_duplicate_copies_the_entry_without_its_id():
    model, _ = _model("dcgan")
    spec, _text = _load(model, model.duplicate_layer("G", 1))
    assert _kinds(spec, "G")[:4] == ["conv_transpose", "batch_norm", "batch_norm", "relu"]
    model, _ = _model("pix2pix")
    assert model.copy_layer("G", 0) == [
        "{conv: {out: \"${ngf}\", kernel: 4, stride: 2, padding: 1, bias: false}}"]


def test_copy_then_paste_elsewhere():
    model, _ = _model("dcgan")
    body = model.copy_layer("D", 1)
    assert body == ["leaky_relu: 0.2"]
    spec, _ = _load(model, model.paste_layer("D", 9, body))
    assert _kinds(spec, "D")[9] == "leaky_relu"


def test_wiring_a_skip_onto_a_layer_writes_the_id_and_a_concat():
    model, _ = _model("dcgan")
    # D: conv (64x16x16) -> leaky_relu -> ... ; feed the leaky_relu's output into layer 2
    spec, text = _load(model, model.wire_skip("D", "networks.D.layers[1]", 2))
    plan = spec.analysis.networks["D"]
    assert "{leaky_relu: 0.2, id: skip1}" in text
    assert plan.layers[2].kind == "concat" and plan.layers[2].sources[-1] == "skip1"
    assert plan.layers[2].out_shape[0] == 128


def test_wiring_a_skip_onto_a_merge_sets_its_with():
    model, _ = _model("dcgan")
    spec, text = _load(model, model.wire_skip("D", "networks.D.layers[1]", 2))
    model = CanvasModel(spec, text, spec.file)
    spec, text = _load(model, model.wire_skip("D", "networks.D.layers[0]", 2))
    assert "concat: {with: skip2}" in text and "{conv: {out: \"${ndf}\"" in text
    assert spec.analysis.networks["D"].layers[2].sources == ["skip1", "skip2"]


def test_wiring_backwards_is_refused():
    model, _ = _model("pix2pix")
    assert isinstance(model.wire_skip("G", "networks.G.layers[28]", 12), str)


def test_an_id_is_added_in_each_written_form():
    model, _ = _model("dcgan")
    for position, expected in ((1, "- {batch_norm: , id: skip1}"),
                               (0, "bias: false}, id: skip1}")):
        edit = model.wire_skip("G", f"networks.G.layers[{position}]", 2)
        _spec, text = _load(model, edit)
        assert expected in text


def test_data_flow_edits():
    model, text = _model("dcgan")
    spec, new = _load(model, model.add_call("fake2", "G(z)"))
    assert spec.analysis.forward["fake2"].fn == "G"
    assert isinstance(model.add_call("fake", "G(z)"), str)  # already defined
    assert isinstance(model.add_call("x", "G(("), str)
    spec, new = _load(model, model.add_loss_term("G", "l1"))
    term = [t for t in spec.analysis.terms if t.objective == "G"][-1]
    assert term.kind == "l1" and term.params["pred"] == "fake" and term.params["target"] == "real"
    path = next(t.path for t in model.spec.analysis.terms if t.objective == "G")
    spec, new = _load(model, model.set_weight(path, 0.5))
    assert next(t for t in spec.analysis.terms if t.path == path).weight == 0.5
    assert new.count("\n") == text.count("\n")
    spec, _ = _load(model, model.set_term_param(path, "fake", "real"))
    assert next(t for t in spec.analysis.terms if t.path == path).params["fake"] == "real"


def test_nodes_show_kind_parameters_shape_and_count():
    model, _ = _model("dcgan")
    from ganbuilder.summary import summarize

    model.summary = summarize(model.spec)
    nodes = model.nodes("G")
    assert nodes[0].kind == "input" and nodes[0].key == model.spec.analysis.networks["G"].inputs[0]
    first = nodes[1]
    assert first.kind == "conv_transpose" and "out=256" in first.brief
    assert first.shape == "256×4×4" or "256" in first.shape
    assert first.params == 100 * 256 * 16
    assert {n.item for n in nodes[4:10]} == {3}  # the repeat's six layers, one entry


def test_containers_and_blocks_of_the_spec_insert_as_entries():
    model, _ = _model("pix2pix")
    assert model.blocks["down"] == {"ch": None, "name": None}
    spec, text = _load(model, model.insert_layer("D", 2, "block:patch_down"))
    assert "- {block: patch_down, ch: 64, stride: 1}" in text
    assert _kinds(spec, "D")[2:5] == ["conv", "batch_norm", "leaky_relu"]
    for kind, written in (("residual", "- residual: [relu]"),
                          ("repeat", "- repeat: {times: 2, layers: [relu]}")):
        spec, text = _load(model, model.insert_layer("D", 2, kind))
        assert written in text and _kinds(spec, "D")[2] == kind


def test_a_unet_is_laid_out_as_a_u_and_a_chain_is_not():
    model, _ = _model("pix2pix")
    plan = model.spec.analysis.networks["G"]
    sizes = [s.out_shape[1] * s.out_shape[2] for s in plan.layers]
    index = {layer.slot: i for i, layer in enumerate(plan.layers)}
    skips = [(index[s], i) for i, layer in enumerate(plan.layers) for s in layer.sources
             if s in index and i - index[s] > 1]
    rows = u_layout(sizes, skips)
    assert [c for c, _ in rows] == [0] * 13 + [1] * 18  # down to the 1x1 bottleneck, up
    for s, t in skips:
        assert rows[s][1] == rows[t][1]  # each skip runs straight across
    assert all(a[1] < b[1] for a, b in itertools.pairwise(rows[:13]))
    assert all(a[1] > b[1] for a, b in itertools.pairwise(rows[13:]))
    assert u_layout([16, 4, 1], []) is None


def test_a_comment_written_above_an_entry_stays_with_it():
    path = SPECS / "dcgan.yaml"
    text = path.read_text().replace(
        "      - leaky_relu: 0.2\n      - repeat",
        "      # D's first activation\n      - leaky_relu: 0.2\n      - repeat", 1)
    spec = load_spec_text(text, str(path), SPECS)
    model = CanvasModel(spec, text, str(path))
    # before the leaky_relu (right after the conv, which is written by its own entry): the
    # new layer goes after the conv, above the comment
    _, new = _load(model, model.insert_layer("D", 1, "dropout"))
    assert "bias: false}\n      - dropout\n      # D's first activation\n      - leaky_relu" in new
    # at the top of the list, before the first entry
    _, new = _load(model, model.insert_layer("D", 0, "dropout"))
    assert "    layers:\n      - dropout\n      - conv: {out: \"${ndf}\"" in new


def test_layers_an_anchor_writes_for_two_networks_are_not_edited_from_one():
    model, _ = _model("cyclegan")  # G_BA: *resnet_generator, D_B: *patchgan
    for network, edit in (("G_AB", model.insert_layer("G_AB", 1, "relu")),
                          ("G_BA", model.delete_layer("G_BA", 0)),
                          ("G_AB", model.move_layer("G_AB", 1, 0)),
                          ("D_A", model.duplicate_layer("D_A", 0))):
        assert isinstance(edit, str) and "anchor" in edit
        other = {"G_AB": "G_BA", "G_BA": "G_AB", "D_A": "D_B"}[network]
        assert network in edit and other in edit


def test_a_drop_inside_a_repeat_of_a_block_edits_the_block_and_says_so():
    model, _ = _model("dcgan")
    repeat = next(i for i in model.items("D") if i.expands)
    before = _kinds(model.spec, "D")
    edit = model.insert_layer("D", repeat.start + 1, "dropout")
    after, new = _load(model, edit)
    assert "every use of down changes" in edit.summary
    down = new.split("\n  down:")[1].split("\n")
    assert down[3].lstrip().startswith("- conv:") and down[4].strip() == "- dropout"
    copies = (repeat.stop - repeat.start) // 3
    kinds = _kinds(after, "D")
    assert len(kinds) == len(before) + copies
    assert kinds[repeat.start:repeat.start + 4] == ["conv", "dropout", "batch_norm", "leaky_relu"]


def test_a_long_chain_wraps_into_as_many_columns_as_show_it_largest():
    from ganbuilder.design.canvas import wrap_columns

    # fits in one readable column: one
    assert wrap_columns(5, 60, 200, 50, (400, 600), 0.9) == 1
    # 20 nodes of 60 in a 600 x 500 view: one column needs scale 0.4, three show at 1.0
    assert wrap_columns(20, 60, 200, 50, (600, 500), 0.9) == 3
    assert wrap_columns(0, 60, 200, 50, (600, 500), 0.9) == 1
    # no count shows it whole and readable in a small view: one column, scrolled
    assert wrap_columns(20, 60, 200, 50, (300, 250), 0.9) == 1
