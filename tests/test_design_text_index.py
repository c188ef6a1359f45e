"""Lines of the spec text <-> the spec items (networks, layers, loss terms) they hold."""

from __future__ import annotations

from ganbuilder.design import TextIndex
from ganbuilder.spec import load_spec

from .conftest import ROOT

SPECS = ROOT / "specs"


def index_of(name: str) -> TextIndex:
    path = SPECS / name
    return TextIndex.of_text(load_spec(path), path.read_text(encoding="utf-8"), str(path))


def test_every_item_is_found_at_its_own_lines():
    index = index_of("dcgan.yaml")
    items = index.items
    assert index.items is items  # measured once
    assert [start for start, _, _ in items] == sorted(start for start, _, _ in items)
    assert len({start for start, _, _ in items}) == len(items)
    for start, end, path in items:
        assert index.path_at(start) == path
        assert index.lines_of(path) == (start, end)
        if path[0] == "networks" and len(path) == 2:
            assert end > start
    line = next(i for i, t in enumerate(index.lines, 1) if t.strip() == "- tanh")
    assert index.path_at(line) == ("networks", "G", "layers", 10)
    assert index.path_at(1) is None
    kinds = {path[0] if len(path) != 2 else "network" for _, _, path in items}
    assert kinds == {"network", "networks", "objectives"}


def test_a_line_inside_an_item_belongs_to_the_innermost_one():
    index = index_of("cyclegan.yaml")
    terms = [t for t in index.spec.analysis.terms if index.lines_of(t.path)]
    assert terms
    for term in terms:
        first, last = index.lines_of(term.path)
        for line in range(first, last + 1):
            assert index.path_at(line) == term.path
    network_first, network_last = index.lines_of(("networks", "G_AB"))
    inner = [index.path_at(n) for n in range(network_first + 1, network_last + 1)]
    assert all(p is None or p[:2] == ("networks", "G_AB") for p in inner)
    assert any(p is not None and len(p) > 2 for p in inner)


def test_layers_expanded_from_one_block_share_its_text():
    index = index_of("pix2pix.yaml")
    assert index.uses(("networks", "G", "layers", 2)) > 1
    assert index.uses(("networks", "G", "layers", 11)) == 1
    written = [path for _, _, path in index.items]
    assert ("networks", "G", "layers", 2) in written or ("networks", "G", "layers", 1) in written
    # one item per line: the expanded copies do not repeat the block's lines
    assert len(written) == len(set(written)) < len(index.spec.analysis.layers) + len(
        index.spec.analysis.networks) + len(index.spec.analysis.terms)


def test_text_from_another_file_is_not_indexed(tmp_path):
    path = SPECS / "dcgan.yaml"
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {path}\nname: child\n", encoding="utf-8")
    spec = load_spec(child)
    index = TextIndex.of_text(spec, child.read_text(encoding="utf-8"), str(child))
    assert index.items == []
    assert index.lines_of(("networks", "G")) is None
    assert index.where(("networks", "G")).file == str(path)
