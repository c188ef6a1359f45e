"""Plugins: packages (and, on request, single files) that register layers, loss terms, data
sources, loggers or anything else with a registry.

* **Installed packages** declare one entry point in the group `ganbuilder.plugins` naming a
  module; importing it registers its entries. Every installed plugin is imported once, before
  the spec schema is first assembled (so `ganbuilder schema`, completion, the app's library
  and validation all know its names). A registration module must not import torch at import
  time (builders import it when they run), or `validate` and `summary` would pay for it: the
  loader warns when one does.
* **A spec says what it needs**: `plugins: [{name: ganbuilder-example, version: ">=0.1"}]`.
  A listed package that is not installed, too old, or broken is one located problem naming
  what to install, reported instead of the unknown names that follow from it; a layer, term,
  data source or logger of an installed plugin that the spec uses without listing it is a
  problem too, so a shared spec always says what it needs.
* **A file** is imported only when a command is given `--plugin FILE`; nothing is ever
  imported from a spec's folder on its own.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganbuilder.errors import Problem, UserError
from ganbuilder.registry import Registry
from ganbuilder.spec.paths import Locations, format_path

GROUP = "ganbuilder.plugins"
# A package name as PEP 508 allows it (what pip installs by).
PACKAGE_NAME = r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$"


@dataclass
class Plugin:
    """One plugin: its package (or file), version, the module its entry point names, what it
    registered (registry kind -> names) and why it failed to load, if it did."""

    name: str
    version: str
    module: str
    file: bool = False
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def __str__(self) -> str:
        return self.name if self.file else f"{self.name} {self.version}"


_plugins: dict[str, Plugin] = {}  # by normalised package name (or resolved file path)
_scanned = False


def normalise(name: str) -> str:
    """A package name as pip compares them (PEP 503): `My_Plugin` is `my-plugin`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_installed(refresh: bool = False) -> dict[str, Plugin]:
    """Import every installed plugin (once; `refresh` looks again for packages installed
    since); returns the plugins by normalised package name."""
    global _scanned
    if _scanned and not refresh:
        return _plugins
    _scanned = True
    _builtins()
    for entry in importlib.metadata.entry_points(group=GROUP):
        dist = entry.dist
        name = dist.metadata["Name"] if dist is not None else entry.name
        key = normalise(name)
        if key in _plugins:
            continue
        plugin = Plugin(name, dist.version if dist is not None else "", entry.value)
        _plugins[key] = plugin
        _import(plugin, lambda e=entry: e.load())
        if plugin.error:
            warnings.warn(f"plugin {plugin} did not load ({plugin.error}); its names are "
                          "unknown", stacklevel=2)
    _schema_changed()
    return _plugins


def load_file(path: Path) -> Plugin:
    """Import a one-off plugin file (`--plugin FILE`); an error in it is one message."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--plugin {path}: no such file")
    key = str(path.resolve())
    if key in _plugins:
        return _plugins[key]
    load_installed()
    module = "ganbuilder_plugin_" + re.sub(r"\W", "_", path.stem)
    plugin = Plugin(str(path), "", module, file=True)

    def run() -> None:
        spec = importlib.util.spec_from_file_location(module, path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[module] = loaded  # eject reads its source; pickling finds its classes
        try:
            spec.loader.exec_module(loaded)
        except BaseException:
            sys.modules.pop(module, None)
            raise

    _import(plugin, run)
    if plugin.error:
        raise UserError(f"--plugin {path}: importing it failed ({plugin.error})")
    _plugins[key] = plugin
    _schema_changed()
    return plugin


def origin(kind: str, name: str) -> Plugin | None:
    """The plugin that registered `name` in the registry of `kind` (`layer`, `loss term`,
    `data source`, `logger`, ...), or None for ganbuilder's own."""
    return next((p for p in _plugins.values() if name in p.registered.get(kind, ())), None)


def _builtins() -> None:
    """Import the registries at and below the spec layer, so that their built-in entries are
    never counted as a plugin's (a registry above, such as import layouts, is imported by the
    command that uses it before it loads plugins)."""
    import ganbuilder.data
    import ganbuilder.layers
    import ganbuilder.loggers
    import ganbuilder.losses
    import ganbuilder.optim  # noqa: F401


def _import(plugin: Plugin, load: Any) -> None:
    """Run `load` and record what it registered (new or replaced entries, per registry)."""
    before = {id(r): dict(r._entries) for r in Registry.every}
    had_torch = "torch" in sys.modules
    try:
        load()
    except Exception as exc:  # a plugin may fail any way: it is named, ganbuilder goes on
        line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
        plugin.error = f"{type(exc).__name__}: {exc}" + (f" (line {line})" if line else "")
    for registry in Registry.every:
        old = before.get(id(registry))
        if old is None:
            continue  # a registry the import created: its entries are its own built-ins
        names = [n for n, e in registry._entries.items() if old.get(n) is not e]
        if names:
            plugin.registered.setdefault(registry.kind, []).extend(sorted(names))
    if not had_torch and "torch" in sys.modules:
        warnings.warn(f"plugin {plugin} imports torch when it loads, which makes `validate` "
                      "and `summary` slow: import torch inside its builders (docs/plugins.md)",
                      stacklevel=3)


def _schema_changed() -> None:
    """The schema is assembled from the registries once; new entries need it again."""
    from ganbuilder.spec.published import published_schema
    from ganbuilder.spec.schema import spec_schema

    spec_schema.cache_clear()
    published_schema.cache_clear()


# -- a spec's `plugins` ----------------------------------------------------------------------

PLUGINS_SCHEMA = {
    "type": "array",
    "description": "plugin packages this spec needs (pip install them); each registers "
                   "layers, loss terms, data sources or loggers",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": PACKAGE_NAME,
                     "description": "the package's name, as pip installs it"},
            "version": {"type": "string", "minLength": 1,
                        "description": "a version specifier, e.g. '>=0.1' or '==1.2.*'"},
        },
        "required": ["name"],
        "additionalProperties": False,
    },
}


def declared_problems(tree: dict, locations: Locations) -> list[Problem]:
    """A problem for each plugin the spec lists that is not installed, has another version
    or failed to load: each names what to install."""
    load_installed()
    problems = []
    declared = tree.get("plugins")
    for i, entry in enumerate(declared if isinstance(declared, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not re.match(PACKAGE_NAME, entry["name"]):
            continue  # the schema says what is wrong with it
        name = entry["name"]
        wanted = entry.get("version") if isinstance(entry.get("version"), str) else None
        where = ("plugins", i)

        def problem(key: str, message: str, where: tuple = where) -> None:
            path = [*where, key]
            problems.append(Problem(format_path(path), message, locations.find(path),
                                    locations.written(path)))

        specifier = None
        if wanted is not None:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                specifier = SpecifierSet(wanted)
            except InvalidSpecifier:
                problem("version", f"'{wanted}' is not a version specifier (e.g. '>=0.1', "
                                   "'==1.2.*', '>=1,<2')")
                continue
        requirement = f"{name}{wanted or ''}"
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            problem("name", f"this spec needs the plugin package {name}"
                            f"{f' ({wanted})' if wanted else ''}, which is not installed: "
                            f"pip install '{requirement}'")
            continue
        if specifier is not None and not _satisfies(specifier, installed):
            problem("version", f"this spec needs {name} {wanted}, but version {installed} is "
                               f"installed: pip install '{requirement}'")
            continue
        plugin = _plugins.get(normalise(name))
        if plugin is None:
            problem("name", f"{name} {installed} is installed but is not a ganbuilder plugin "
                            f"(it has no '{GROUP}' entry point)")
        elif plugin.error:
            problem("name", f"plugin {plugin} failed to load: {plugin.error}")
    return problems


def _satisfies(specifier: Any, version: str) -> bool:
    """Whether an installed version meets a specifier; a version PEP 440 cannot read never
    does."""
    from packaging.version import InvalidVersion

    try:
        return specifier.contains(version, prereleases=True)
    except InvalidVersion:
        return False


def undeclared_problems(tree: dict, analysis: Any, locations: Locations) -> list[Problem]:
    """A problem at each use of an installed plugin's layer, term, data source or logger
    that the spec's `plugins` does not list."""
    declared = tree.get("plugins")
    listed = {normalise(e["name"]) for e in (declared if isinstance(declared, list) else [])
              if isinstance(e, dict) and isinstance(e.get("name"), str)}
    uses: list[tuple[str, str, tuple]] = [("layer", layer.kind, path)
                                          for path, layer in analysis.layers.items()]
    uses += [("loss term", term.kind, term.path) for term in analysis.terms]
    source = (tree.get("data") or {}).get("source")
    if isinstance(source, str):
        uses.append(("data source", source, ("data", "source")))
    log = (tree.get("training") or {}).get("log")
    for i, name in enumerate(log if isinstance(log, list) else []):
        if isinstance(name, str):
            uses.append(("logger", name, ("training", "log", i)))
    problems, said = [], set()
    for kind, name, path in uses:
        plugin = origin(kind, name)
        if plugin is None or plugin.file or normalise(plugin.name) in listed:
            continue
        if (kind, name) in said:
            continue  # once per name: the first use says it
        said.add((kind, name))
        problems.append(Problem(
            format_path(list(path)),
            f"{kind} '{name}' comes from the plugin package {plugin}, which the spec's "
            f"`plugins` does not list: add `plugins: [{{name: {plugin.name}, version: "
            f"'>={plugin.version}'}}]` so that whoever runs it knows what to install",
            locations.find(list(path)), locations.written(list(path))))
    return problems

