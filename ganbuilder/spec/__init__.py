"""Spec loading: YAML text -> resolved tree -> schema check -> semantic check -> Spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ganbuilder.errors import Problem, SpecError, UserError
from ganbuilder.files import is_pipe, real_path
from ganbuilder.registry import fill_defaults
from ganbuilder.spec.overlay import from_base_files
from ganbuilder.spec.paths import Locations, parse_path, plain
from ganbuilder.spec.plugins import declared_problems, undeclared_problems
from ganbuilder.spec.resolve import (
    apply_overrides,
    expand_blocks,
    read_tree,
    substitute_params,
    tree_from_text,
)
from ganbuilder.spec.schema import schema_problems, spec_schema
from ganbuilder.spec.semantic import Analysis, analyse
from ganbuilder.spec.terms import Objective, spec_objectives
from ganbuilder.spec.yaml_loader import LDict, load_yaml


@dataclass(frozen=True)
class Spec:
    """A validated spec: the resolved values, where each came from, and what it computes."""

    tree: dict
    locations: Locations
    analysis: Analysis
    file: str
    base_dir: Path

    @property
    def name(self) -> str:
        return self.tree["name"]

    @property
    def training(self) -> dict:
        """The training section over its schema defaults."""
        return fill_defaults(_properties("training"), self.tree["training"])

    @property
    def sampling(self) -> dict:
        default_tensors = [self.analysis.order[0]] if self.analysis.order else []
        given = {"tensors": default_tensors, **(self.tree.get("sampling") or {})}
        return fill_defaults(_properties("sampling"), given)

    @property
    def objectives(self) -> dict[str, Objective]:
        """Every objective, typed, over its schema defaults (`repeat`), in declaration order."""
        return spec_objectives(self.tree, self.analysis.terms)

    @property
    def objective_order(self) -> list[str]:
        return list(self.tree["training"].get("order") or self.tree["objectives"])

    @property
    def gan_loss(self) -> str:
        return self.tree.get("gan_loss", spec_schema()["properties"]["gan_loss"]["default"])

    def source_files(self) -> set[Path]:
        """The files the spec was read from (itself and those it extends), resolved: what no
        command may write over."""
        written = {real_path(loc.file) for loc in self.locations.values.values()}
        return written | ({real_path(self.file)} if Path(self.file).is_file() else set())

    def locate(self, error: UserError) -> UserError:
        """Fill in file:line:col for problems that name a spec path but no location."""
        for i, problem in enumerate(error.problems):
            if problem.location is None and problem.path:
                try:
                    path = parse_path(problem.path)
                except ValueError:
                    continue
                error.problems[i] = Problem(problem.path, problem.message,
                                            self.locations.find(path),
                                            self.locations.written(path))
        error.args = ("\n".join(str(p) for p in error.problems),)
        return error

    def text(self) -> str:
        """The resolved spec as YAML: no extends, params substituted, blocks expanded, and data
        paths absolute, so the text (a run's spec.yaml, a checkpoint's spec) stands alone."""
        from ganbuilder.data.registry import absolute_paths
        from ganbuilder.spec.pretrained import absolute_weights

        return dump_yaml({**self.tree, "data": absolute_paths(self.tree["data"], self.base_dir),
                          "networks": absolute_weights(self.tree["networks"], self.base_dir)})


def _properties(section: str) -> dict:
    return spec_schema()["properties"][section]["properties"]


def dump_yaml(tree: Any) -> str:
    return yaml.safe_dump(tree, sort_keys=False, default_flow_style=None, width=100)


def load_spec(file: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Spec:
    """Load, resolve and check a spec file; raise SpecError listing every problem."""
    file = Path(file)
    try:
        if is_pipe(file):  # `<(cat spec.yaml)`: named as given, relative paths from here
            return _finish(read_tree(file), str(file), Path.cwd(), overrides)
        return _finish(read_tree(file), str(real_path(file)), real_path(file).parent,
                       overrides)
    except SpecError as exc:
        raise from_base_files(exc, real_path(file)) from None


def load_spec_text(
    text: str, file: str = "<spec>", base_dir: Path | None = None,
    overrides: list[str] | tuple[str, ...] = (), resolved: bool = False,
) -> Spec:
    """Like load_spec, for text that is not (or not yet) saved, as in the editor. `resolved`
    text (a checkpoint's spec, saved fully resolved) is read alone: an `extends` in it is
    refused, never followed, so a crafted checkpoint cannot make the loader read other files."""
    base = base_dir or Path.cwd()
    tree = load_yaml(text, file) if resolved else None
    if isinstance(tree, LDict) and "extends" in tree:
        raise SpecError([Problem("extends", "a checkpoint's spec is resolved and cannot "
                                 "extend another file", tree.val_locs["extends"])])
    try:
        if not isinstance(tree, LDict):  # not resolved, or not a mapping: the usual path
            tree = tree_from_text(text, file, base)
        return _finish(tree, file, base, overrides)
    except SpecError as exc:
        raise from_base_files(exc, Path(file)) from None


def _command_line_paths(tree: LDict, overrides) -> None:
    """A data path given with --set is relative to the current folder (as any path typed on
    the command line), not to the spec file's folder as paths written in the file are."""
    from ganbuilder.data.registry import path_keys

    data = tree.get("data")
    for item in overrides:
        path = parse_path(item.split("=", 1)[0].strip())  # apply_overrides checked the syntax
        if isinstance(data, dict) and len(path) == 2 and path[0] == "data" \
                and path[1] in path_keys(data) and isinstance(data.get(path[1]), str) \
                and "${" not in data[path[1]]:
            data[path[1]] = str(real_path(Path(data[path[1]]).expanduser()))


def _finish(tree, file: str, base_dir: Path, overrides) -> Spec:
    apply_overrides(tree, list(overrides))
    _command_line_paths(tree, overrides)
    problems: list = []
    env = substitute_params(tree, problems)
    expand_blocks(tree, env, problems)
    locations = Locations(tree)
    if problems:
        raise SpecError(problems)
    values = plain(tree)
    missing = declared_problems(values, locations)  # the cause of any unknown names
    problems = schema_problems(values, locations)
    if missing or problems:
        raise SpecError(missing + [p for p in problems if p.path.startswith("plugins")]
                        if missing else problems)
    analysis = analyse(values, locations, base_dir)
    if analysis.problems:
        raise SpecError(analysis.problems)
    undeclared = undeclared_problems(values, analysis, locations)
    if undeclared:
        raise SpecError(undeclared)
    return Spec(values, locations, analysis, file, base_dir)


__all__ = ["Spec", "SpecError", "dump_yaml", "load_spec", "load_spec_text", "spec_schema"]
