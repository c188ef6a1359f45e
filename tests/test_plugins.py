"""Plugins: the example package (examples/ganbuilder-example-plugin) pip-installed into a
folder, found through its entry point, and its layer and term given the registry's treatment;
a spec's `plugins` naming what to install; a one-off file only with --plugin."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.errors import SpecError
from ganbuilder.export import eject_source
from ganbuilder.registry import Registry
from ganbuilder.runs.checkpoint import load_checkpoint
from ganbuilder.spec import load_spec, plugins
from ganbuilder.spec.published import published_schema
from ganbuilder.spec.schema import spec_schema
from ganbuilder.train.trainer import Trainer
from tests.conftest import ROOT, import_file
from tests.test_eject import _check_matches

PACKAGE = ROOT / "examples" / "ganbuilder-example-plugin"
EXAMPLE = PACKAGE / "example.yaml"
TWO_STEPS = ["training.steps=2", "training.log_every=1", "training.sample_every=2",
             "training.checkpoint_every=2"]


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    """The example package installed by pip into a folder of its own (no index, no build
    isolation: setuptools comes from this environment); built from a copy, so the checkout
    gets no build/ or egg-info."""
    base = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PACKAGE, base / "src")
    out = base / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "-t", str(out), str(source)],
                   check=True, capture_output=True, cwd=base)
    assert (out / "ganbuilder_example").is_dir()
    return out


def forget(plugin: plugins.Plugin) -> None:
    """Take a plugin's entries out of every registry again (a test's business only)."""
    for registry in Registry.every:
        for name in plugin.registered.get(registry.kind, ()):
            registry._entries.pop(name, None)
    plugins._plugins.pop(next(k for k, p in plugins._plugins.items() if p is plugin))
    spec_schema.cache_clear()
    published_schema.cache_clear()


@pytest.fixture
def installed(target):
    """The installed example, on sys.path for one test, then gone again."""
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        plugin = plugins.load_installed(refresh=True)["ganbuilder-example"]
        yield plugin
    finally:
        sys.path.remove(str(target))
        importlib.invalidate_caches()
        forget(plugins._plugins["ganbuilder-example"])
        for name in [m for m in sys.modules if m.startswith("ganbuilder_example")]:
            del sys.modules[name]


def ganbuilder(*args: str, path: Path | None = None) -> subprocess.CompletedProcess:
    """The command in a fresh process, with `path` (an install folder) importable."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *([str(path)] if path
                                                                     else [])])}
    return subprocess.run([sys.executable, "-m", "ganbuilder", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT)


def test_the_example_validates_without_torch_and_names_the_package_where_it_is_missing(target):
    probe = ("import sys; from ganbuilder.cli import main; "
             f"assert main(['validate', {str(EXAMPLE)!r}]) == 0; "
             "assert 'torch' not in sys.modules, 'validate imported torch'")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(target)])}
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env=env, cwd=ROOT)
    assert found.returncode == 0, found.stderr
    assert found.stdout == f"ok: {EXAMPLE} (coords: G, D)\n"
    assert not found.stderr  # no warning: the registration module imports no torch
    missing = ganbuilder("validate", str(EXAMPLE))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"error: {EXAMPLE}:8:12: plugins[0].name: this spec needs the plugin package "
        "ganbuilder-example (>=0.1), which is not installed: pip install "
        "'ganbuilder-example>=0.1'"]  # instead of "unknown layer" and "unknown loss term"


def test_a_version_the_spec_does_not_accept_is_a_located_message(target, tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8")
    newer, bad = tmp_path / "newer.yaml", tmp_path / "bad.yaml"
    newer.write_text(text.replace('">=0.1"', '">=0.2,<1"'), encoding="utf-8")
    bad.write_text(text.replace('">=0.1"', "new"), encoding="utf-8")
    found = ganbuilder("validate", str(newer), str(bad), path=target)
    assert found.returncode == 2
    assert found.stderr.splitlines() == [
        f"error: {newer}:8:41: plugins[0].version: this spec needs ganbuilder-example "
        ">=0.2,<1, but version 0.1.0 is installed: pip install 'ganbuilder-example>=0.2,<1'",
        f"error: {bad}:8:41: plugins[0].version: 'new' is not a version specifier (e.g. "
        "'>=0.1', '==1.2.*', '>=1,<2')"]


def test_using_a_plugin_the_spec_does_not_list_is_named_at_each_use(installed, tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '  - {name: ganbuilder-example, version: ">=0.1"}\n', "").replace("plugins:\n", "")
    (tmp_path / "unlisted.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "unlisted.yaml")
    problems = [(p.path, p.message.split(",")[0]) for p in info.value.problems]
    assert problems == [
        ("networks.D.layers[0]", "layer 'add_coords' comes from the plugin package "
                                 "ganbuilder-example 0.1.0"),
        ("objectives.G.loss[1]", "loss term 'total_variation' comes from the plugin package "
                                 "ganbuilder-example 0.1.0")]


def test_the_plugins_layer_and_term_are_in_the_schema_train_and_eject(installed, tmp_path):
    assert installed.registered == {"layer": ["add_coords"], "loss term": ["total_variation"]}
    schema = published_schema()  # what editors complete from
    assert "add_coords" in str(schema["$defs"]) and "total_variation" in str(schema["$defs"])
    spec = load_spec(EXAMPLE, TWO_STEPS)
    run = Trainer(spec, tmp_path / "run").run()
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["step"] == 2
    assert state["networks"]["D"]["1.weight"].shape == (16, 3, 4, 4)  # 1 + 2 coordinates
    model = tmp_path / "model.py"
    model.write_text(eject_source(spec), encoding="utf-8")
    assert "class AddCoords(nn.Module):" in model.read_text(encoding="utf-8")
    _check_matches(spec, import_file(model))  # same keys, initial weights and outputs
    loop = tmp_path / "train.py"  # the term's own code, copied into the written loop
    loop.write_text(eject_source(spec, TWO_STEPS, with_training=True), encoding="utf-8")
    assert "def total_variation(p: dict, ctx):" in loop.read_text(encoding="utf-8")


def test_the_plugins_layer_is_in_the_apps_library(installed, qtbot):
    from gui.library import LayerLibrary

    library = LayerLibrary()
    qtbot.addWidget(library)
    assert library.entries()["plugins: example"] == ["add_coords"]
    tooltip = library.item("add_coords").toolTip(0)
    assert "CoordConv" in tooltip and "from the plugin ganbuilder-example 0.1.0" in tooltip


PLUGIN_FILE = '''
"""A one-off plugin: a layer that halves its input."""
from ganbuilder.layers import construct, layer


def _same(p, inputs):
    return inputs[0]


@layer("half", _same, group="plugins: mine")
def half(p, inputs):
    """Multiplies its input by 0.5."""
    from torch import nn
    return construct(nn.Identity)
'''

FILE_SPEC = """
version: 1
name: halved
data: {source: ring8, batch_size: 8}
latent: {z: {dist: normal, shape: [2]}}
networks:
  G: {layers: [{linear: 2}, half]}
  D: {layers: [{linear: 1}]}
forward: {fake: G(z)}
objectives:
  D: {updates: [D], loss: [{adversarial: {critic: D, real: real, fake: fake}}]}
  G: {updates: [G], loss: [{adversarial: {critic: D, fake: fake}}]}
training: {steps: 1}
"""


def test_a_file_plugin_is_imported_only_with_the_flag(tmp_path, capsys):
    # A plugin file beside the spec is never imported on its own.
    (tmp_path / "half.py").write_text(PLUGIN_FILE, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(FILE_SPEC, encoding="utf-8")
    assert main(["validate", str(tmp_path / "spec.yaml")]) == 2
    assert "unknown value 'half'" in capsys.readouterr().err
    try:
        assert main(["validate", str(tmp_path / "spec.yaml"),
                     "--plugin", str(tmp_path / "half.py")]) == 0
        plugin = plugins._plugins[str((tmp_path / "half.py").resolve())]
        assert plugin.file and plugin.registered == {"layer": ["half"]}
        assert plugins.origin("layer", "half") is plugin
    finally:
        forget(plugins._plugins[str((tmp_path / "half.py").resolve())])
        sys.modules.pop("ganbuilder_plugin_half", None)


def test_a_broken_or_missing_plugin_file_is_one_message(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("x = (\n", encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(FILE_SPEC, encoding="utf-8")
    assert main(["validate", str(tmp_path / "spec.yaml"),
                 "--plugin", str(tmp_path / "broken.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --plugin {tmp_path / 'broken.py'}: importing it failed "
                          "(SyntaxError") and len(err.splitlines()) == 1
    assert main(["summary", str(tmp_path / "spec.yaml"), "--plugin", "nowhere.py"]) == 2
    assert capsys.readouterr().err == "error: --plugin nowhere.py: no such file\n"
    assert not any(p.file for p in plugins._plugins.values())


def test_no_plugin_is_left_registered_after_the_tests():
    assert "add_coords" not in str(spec_schema()) and "half" not in plugins._plugins
    assert torch.is_tensor(torch.zeros(1))


@pytest.mark.parametrize(("plugins_value", "path", "says"), [
    ("[{name: no-such-ganbuilder-plugin}]", "plugins[0].name",
     "needs the plugin package no-such-ganbuilder-plugin, which is not installed: pip install "
     "'no-such-ganbuilder-plugin'"),
    ("[{name: pytest}]", "plugins[0].name",
     "is installed but is not a ganbuilder plugin (it has no 'ganbuilder.plugins' entry point)"),
    ("[{name: pytest, version: '<1'}]", "plugins[0].version", "this spec needs pytest <1, but"),
    ("[{name: pytest, version: '=>1'}]", "plugins[0].version",
     "'=>1' is not a version specifier"),
    ("[{name: a/b}]", "plugins[0].name", "expected a package name of letters"),
    ("[{version: '>=1'}]", "plugins[0]", "name"),
])
def test_each_bad_plugins_entry_is_one_located_problem(minimal_spec, plugins_value, path, says):
    with pytest.raises(SpecError) as info:
        load_spec(minimal_spec, [f"plugins={plugins_value}"])
    [problem] = info.value.problems
    assert problem.path == path and says in problem.message and problem.location is not None
