"""The data source registry and the functions the trainer and schema assembler call."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganbuilder.errors import DataError
from ganbuilder.files import real_path
from ganbuilder.registry import Registry, did_you_mean, fill_defaults

if TYPE_CHECKING:
    from ganbuilder.data.source import DataSource

COMMON_KEYS: dict[str, dict] = {
    "batch_size": {
        "type": "integer",
        "minimum": 1,
        "default": 64,
        "description": "Number of samples in each training batch (the global batch: under "
                       "torchrun each rank trains on an equal share of it).",
    },
    "workers": {
        "anyOf": [{"type": "integer", "minimum": 0, "maximum": 64}, {"const": "auto"}],
        "default": "auto",
        "description": "Processes that decode and augment image files, one batch ahead (0: "
                       "the training process); auto: none on the CPU, half the cores (at most "
                       "8) on a GPU. Batches are the same for any number.",
    },
}

@dataclass(frozen=True)
class SourceDef:
    """One data source: its keys' schema, its torch-free shape rule, its loader, and what the
    rest of ganbuilder needs to know of it.

    `path_keys` are its keys holding paths: a relative value is taken from the spec file's
    folder (from the current folder when given with --set), made absolute in a run's
    spec.yaml and rewritten by `flatten`. `images`: its first path key holds image files,
    which the app's data pre-flight looks into. `held_out`: the key values that read its
    held-out data (its test split), for evaluate's real set; a source without them whose
    first path key names a train/ folder is compared with a test/ or val/ folder beside it.
    `file_inputs`: the data tensors one file of the user's becomes, and how (`reader(path,
    data)` -> the per-sample tensor, data being the spec's data section with defaults): a
    label map's `seg`, which `translate` feeds from label files instead of images.
    """

    schema: dict
    required: tuple[str, ...]
    shapes: Callable[[dict], dict[str, list[int]]]
    open: Callable[[dict, Path], DataSource]
    description: str = ""
    path_keys: tuple[str, ...] = ()
    images: bool = False
    held_out: dict[str, Any] = field(default_factory=dict)
    file_inputs: dict[str, Callable[[Path, dict], Any]] = field(default_factory=dict)


SOURCES: Registry[SourceDef] = Registry("data source")


def data_schema() -> dict:
    """JSON Schema (draft 2020-12) of the whole `data:` section."""
    names = SOURCES.names()
    branches = []
    for name, src in SOURCES.items():
        then: dict[str, Any] = {"properties": copy.deepcopy(src.schema)}
        if src.required:
            then["required"] = list(src.required)
        branches.append(
            {
                # `required` keeps a missing source from matching every branch at once.
                "if": {"properties": {"source": {"const": name}}, "required": ["source"]},
                "then": then,
            }
        )
    return {
        "type": "object",
        "description": "Where training data comes from and how it is batched.",
        "properties": {
            "source": {
                "type": "string",
                "enum": names,
                "description": "Which data source to read: " + ", ".join(names) + ".",
            },
            **copy.deepcopy(COMMON_KEYS),
        },
        "required": ["source"],
        "allOf": branches,
        "unevaluatedProperties": False,
    }


def tensor_shapes(cfg: dict, base_dir: Path | None = None) -> dict[str, list[int]]:
    """Per-sample shapes of the tensors a batch carries, e.g. {"real": [1, 32, 32], "label": []}.

    `base_dir` (optional) resolves a relative `root`, which lets the `folder` source look for class
    subfolders; without it relative roots are taken from the working directory.
    """
    src, full = _prepare(cfg, base_dir)
    return src.shapes(full)


def open_source(cfg: dict, base_dir: Path) -> DataSource:
    """Open the data set that `cfg` (the `data:` section) describes."""
    src, full = _prepare(cfg, base_dir)
    return src.open(full, Path(base_dir))


def source_def(cfg: dict) -> SourceDef:
    """The SourceDef named by cfg["source"], or a DataError at `data.source`."""
    name = cfg.get("source") if isinstance(cfg, dict) else None
    if name is None:
        raise DataError(
            "missing 'source'; choose one of " + ", ".join(SOURCES.names()), path="data.source"
        )
    if not isinstance(name, str) or name not in SOURCES:
        raise DataError(
            f"unknown data source '{name}'{did_you_mean(str(name), SOURCES.names())}; "
            f"choose one of {', '.join(SOURCES.names())}",
            path="data.source",
        )
    return SOURCES.get(name)


def with_defaults(cfg: dict) -> dict:
    """A copy of cfg with every missing key that has a schema default filled in."""
    return fill_defaults({**COMMON_KEYS, **source_def(cfg).schema}, cfg)


def _prepare(cfg: dict, base_dir: Path | None) -> tuple[SourceDef, dict]:
    src = source_def(cfg)
    _check(cfg, src)
    full = with_defaults(cfg)
    if base_dir is not None:
        full = absolute_paths(full, Path(base_dir))
    return src, full


def path_keys(cfg: dict) -> tuple[str, ...]:
    """The keys of the `data:` section `cfg` that hold paths (none for an unknown source)."""
    name = cfg.get("source") if isinstance(cfg, dict) else None
    return SOURCES.get(name).path_keys if isinstance(name, str) and name in SOURCES else ()


def absolute_paths(cfg: dict, base_dir: Path) -> dict:
    """A copy of the `data:` section with its written paths absolute (relative ones start at
    `base_dir`); values still holding `${...}` are left as they are."""
    out = dict(cfg)
    for key in path_keys(cfg):
        if isinstance(out.get(key), str) and "${" not in out[key]:
            out[key] = str(resolve_path(out[key], base_dir))
    return out


def resolve_path(value: str, base_dir: Path) -> Path:
    """An absolute path for a spec path value; relative ones start at the spec's folder."""
    path = Path(value).expanduser()
    return real_path(path if path.is_absolute() else Path(base_dir) / path)


def _check(cfg: dict, src: SourceDef) -> None:
    # A safety net for callers that skip spec validation: the first problem becomes a DataError.
    allowed = {"source", *COMMON_KEYS, *src.schema}
    for key in cfg:
        if key not in allowed:
            raise DataError(
                f"unknown key '{key}' for data source '{cfg['source']}'"
                f"{did_you_mean(str(key), allowed)}",
                path=f"data.{key}",
            )
    import jsonschema  # torch-free; imported here so that `import ganbuilder.data` stays light

    validator = jsonschema.Draft202012Validator(data_schema())
    # A failed `then` also leaves its keys unevaluated; report the key's own error instead.
    errors = sorted(
        validator.iter_errors(cfg),
        key=lambda e: (e.validator == "unevaluatedProperties", -len(e.absolute_path)),
    )
    if errors:
        err = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        raise DataError(err.message, path=f"data{where}")
