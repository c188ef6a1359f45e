"""File > New from template offers every shipped spec with its name and description."""

from __future__ import annotations

from ganbuilder.design.templates import SPECS_DIR, templates

from .conftest import SPECS


def test_every_shipped_spec_is_a_template_with_its_description():
    found = templates()
    assert SPECS_DIR.is_dir()
    assert [t.path for t in found] == SPECS
    dcgan = next(t for t in found if t.name == "dcgan")
    assert dcgan.description.startswith("DCGAN") and "\n" not in dcgan.description


def test_unreadable_and_odd_files_are_listed_by_file_name(tmp_path):
    (tmp_path / "b_broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    (tmp_path / "a_list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    (tmp_path / "c_named.yaml").write_text("name: mine\ndescription: |\n  two\n  lines\n",
                                           encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a spec", encoding="utf-8")
    assert [(t.path.name, t.name, t.description) for t in templates(tmp_path)] == [
        ("a_list.yaml", "a_list", ""), ("b_broken.yaml", "b_broken", ""),
        ("c_named.yaml", "mine", "two lines")]
