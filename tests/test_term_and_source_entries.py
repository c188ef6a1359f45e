"""Facts about loss terms, data sources and training defaults live in one place each: the
entry (or the schema fragment), never in a table or literal elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from ganbuilder.data import SOURCES
from ganbuilder.losses import LOSSES
from ganbuilder.spec import load_spec
from ganbuilder.train.streams import ON_DEVICE, SEED_OFFSETS
from tests.conftest import ROOT, SMALL


def _sources(*skip: str) -> list[Path]:
    return [p for folder in ("ganbuilder", "gui") for p in (ROOT / folder).rglob("*.py")
            if not set(skip) & set(p.relative_to(ROOT).parts)]


def test_the_old_tables_and_restated_defaults_are_gone():
    tables = r"\b(SUPPORTED|_RESERVED|PATH_KEYS|IMAGE_SOURCES|DISTANCES)\b"
    # Defaults said again outside their schema fragment: objectives' repeat, training.ema's
    # decay and start, training.precision; the trainer's seed offsets (train/streams.py).
    restated = (r"""\.get\(["']repeat["'], 1\)|\.get\(["']decay["'], 0\.999\)"""
                r"""|\.get\(["']start["'], 0\)|\.get\(["']precision["'], ["']fp32["']\)"""
                r"|seed \+ [135]\b")
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        assert not re.findall(tables, text), f"{where}: {re.findall(tables, text)}"
        assert not re.findall(restated, text), f"{where}: {re.findall(restated, text)}"


def test_no_table_of_term_kinds_outside_the_registry():
    """No line outside ganbuilder/losses quotes two different term kinds (a table of them)."""
    kinds = set(LOSSES.names())
    for path in _sources("losses"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            quoted = set(re.findall(r"""["']([a-z_0-9]+)["']""", line)) & kinds
            assert len(quoted) < 2, f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_every_source_entry_names_its_paths_and_held_out_split():
    for name, src in SOURCES.items():
        keys = set(src.schema)
        assert set(src.path_keys) <= keys, name
        # A key holding a path is declared (made absolute in a run, rewritten by flatten).
        assert "root" not in keys or "root" in src.path_keys, name
        assert not src.images or src.path_keys, f"{name}: images, but under which key?"
        for key, value in src.held_out.items():
            assert value in src.schema[key].get("enum", [value]), (name, key, value)


def test_objectives_are_typed_over_their_schema_defaults():
    spec = load_spec(ROOT / "specs/wgan.yaml", SMALL["wgan"])
    critic, generator = spec.objectives["D"], spec.objectives["G"]
    assert (critic.repeat, critic.clip_weights, critic.updates) == (5, 0.01, ("D",))
    assert generator.repeat == 1 and generator.clip_weights is None  # the schema's defaults
    assert [t.kind for t in generator.terms] == ["adversarial"]


def test_the_trainer_and_the_ejected_loop_seed_their_streams_alike():
    from ganbuilder.export import eject_source

    spec = load_spec(ROOT / "specs/cyclegan.yaml", SMALL["cyclegan"])
    text = eject_source(spec, SMALL["cyclegan"], with_training=True)
    for stream, offset in SEED_OFFSETS.items():
        where = "self.device" if stream in ON_DEVICE else ""  # latents and uniforms: the device's
        assert (f"self.{stream}_generator = torch.Generator({where}).manual_seed(seed + {offset})"
                in text)
