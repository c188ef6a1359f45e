"""Weights from the files a spec's networks name (`networks.N.weights`), loaded when a run
starts: the file is read with `torch.load(weights_only=True)`, its tensors are mapped onto the
network's layers by the declared layout and checked key by key (names and shapes), and its
sha256 is recorded in the run folder (`pretrained.json`), as `evaluate` records the Inception
file's. A resumed run takes the weights from its checkpoint, which holds them like any other.
Nothing is downloaded: a missing file is an error saying where to put which file.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ganbuilder.compile.frozen import layer_at
from ganbuilder.compile.model import GAN
from ganbuilder.errors import UserError
from ganbuilder.files import write_file
from ganbuilder.runs.checkpoint import quiet_load, unreadable_reason
from ganbuilder.spec import Spec
from ganbuilder.spec.pretrained import layout_of, mapped_layers, missing_weights, weights_path
from ganbuilder.weights_files import file_sha256, state_dict_differences

RECORD = "pretrained.json"


def read_state_dict(path: Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a weights file (a state dict, or a mapping holding one under
    `state_dict`), read without running pickled code; a UserError naming the file otherwise."""
    try:
        state = quiet_load(path)
    except Exception as exc:  # a pickle with code, a truncated file, not a torch file at all
        reason = unreadable_reason(exc)
        raise UserError(f"{path}: not a readable weights file for {what} ({reason})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise UserError(f"{path}: not a state dict (a mapping of parameter names to tensors) "
                        f"for {what}")
    return state


def mapped_state(network: nn.Module, state: dict[str, torch.Tensor], spec: Spec, name: str,
                 path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors under the network's own state-dict keys, as the layout maps them;
    a UserError listing which keys or shapes disagree."""
    weights = spec.tree["networks"][name]["weights"]
    layout = layout_of(weights)
    own = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    if layout.modules is None:
        wanted, renamed = own, dict(state)
    else:
        plan = spec.analysis.networks[name]
        prefix = "" if isinstance(network, nn.Sequential) else "layers."
        wanted, renamed = {}, {}
        for module, index in mapped_layers(layout, plan).items():
            for key, value in layer_at(network, index).state_dict().items():
                mine = f"{prefix}{index}.{key}"
                wanted[f"{module}.{key}"] = tuple(value.shape)
                if f"{module}.{key}" in state:
                    renamed[mine] = state[f"{module}.{key}"]
        taken = {f"{m}." for m in mapped_layers(layout, plan)}
        # Modules of the file no layer of this network takes (a truncated stack, the
        # classifier head) are left out; only the modules the layout maps are compared.
        state = {k: v for k, v in state.items() if any(k.startswith(t) for t in taken)}
    parts = state_dict_differences(wanted, {k: tuple(v.shape) for k, v in state.items()})
    if parts:
        raise UserError(f"{path}: not the weights of network {name} under layout "
                        f"{layout.name}: " + "; ".join(parts))
    bad = [k for k, v in renamed.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise UserError(f"{path}: non-finite values in {', '.join(bad[:3])}")
    return renamed


def load_pretrained(gan: GAN, spec: Spec) -> dict[str, dict]:
    """Load every network's weights file into `gan`; returns, per network, the file, its
    sha256 and the layout (what the run folder records)."""
    records = {}
    for name in gan.nets:
        weights = spec.tree["networks"][name].get("weights")
        if weights is None:
            continue
        missing = missing_weights(name, weights, spec.base_dir)
        if missing is not None:
            raise spec.locate(UserError(missing, f"networks.{name}.weights"))
        path, _ = weights_path(weights, spec.base_dir)
        assert path is not None
        state = read_state_dict(path, f"network {name}")
        net = gan.nets[name]
        try:
            mapped = mapped_state(net, state, spec, name, path)
        except UserError as exc:
            raise spec.locate(UserError(str(exc), f"networks.{name}.weights")) from None
        with torch.no_grad():
            own = net.state_dict()
            for key, value in mapped.items():
                own[key].copy_(value.to(own[key].dtype))
        records[name] = {"file": str(path.resolve()), "sha256": file_sha256(path),
                         "layout": layout_of(weights).name}
    return records


def record_pretrained(run_dir: Path, records: dict[str, dict]) -> None:
    """Write the run folder's record of the weights files a fresh run started from."""
    if records:
        write_file(Path(run_dir) / RECORD, json.dumps(records, indent=2) + "\n")


__all__ = ["RECORD", "load_pretrained", "mapped_state", "read_state_dict", "record_pretrained"]
