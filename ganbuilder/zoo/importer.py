"""`ganbuilder import`: another project's checkpoint files plus the matching spec in, a
ganbuilder checkpoint out (networks and weight averages only; see docs/spec.md, "Importing
checkpoints")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ganbuilder.compile.model import GAN
from ganbuilder.errors import UserError
from ganbuilder.files import check_target
from ganbuilder.runs.checkpoint import first_nonfinite, save_checkpoint
from ganbuilder.spec import Spec, load_spec
from ganbuilder.spec.plugins import load_installed
from ganbuilder.zoo.keymap import NetworkFit, fill_template, fit_network, infer_params
from ganbuilder.zoo.reading import held_networks, load_file, sha256
from ganbuilder.zoo.registry import LAYOUTS, Layout


@dataclass
class Imported:
    """What an import wrote: the file, and where each spec network's weights came from."""

    out: Path
    sources: dict[str, str] = field(default_factory=dict)   # spec network -> its origin
    notes: list[str] = field(default_factory=list)


def get_layout(name: str) -> Layout:
    """The registered layout `name` (ganbuilder's or an installed plugin's), or a UserError
    listing them."""
    load_installed()  # after LAYOUTS exists, so a plugin's layouts are recorded as its own
    try:
        return LAYOUTS.get(name)
    except KeyError as exc:
        raise UserError(f"{exc.args[0]}; layouts: {', '.join(LAYOUTS.names())}") from None


def parse_sources(layout: Layout, sources: list[str]) -> list[tuple[str | None, Path]]:
    """`FILE` or `NAME=FILE` (NAME one of the layout's reference networks) per argument."""
    names = {m.reference for m in layout.networks}
    out = []
    for text in sources:
        name, sep, rest = text.partition("=")
        out.append((name, Path(rest)) if sep and name in names else (None, Path(text)))
    return out


def import_checkpoint(layout_name: str, sources: list[str], spec_file: Path,
                      overrides: list[str], out: Path, force: bool = False) -> Imported:
    """Map the files' networks onto the spec's and write a ganbuilder checkpoint to `out`;
    a file that does not fit is a UserError naming the keys, the shapes and the `--set`
    that fits."""
    layout = get_layout(layout_name)
    if not sources:
        raise UserError(f"name the checkpoint file(s) to import ({layout.description})")
    spec = load_spec(spec_file, overrides)
    files = parse_sources(layout, sources)
    check_target(out, force, [p for _, p in files] + sorted(spec.source_files()),
                 command="import")
    held: dict[str, tuple[Path, dict[str, torch.Tensor]]] = {}
    extras: dict[str, torch.Tensor] = {}
    records = []
    for named, path in files:
        networks, found = held_networks(path, load_file(path, layout), layout, named)
        for reference, state in networks.items():
            if reference in held:
                raise UserError(f"{path} and {held[reference][0]} both hold {reference}")
            held[reference] = (path, state)
        extras.update(found)
        records.append({"path": str(path.resolve()), "sha256": sha256(path),
                        "networks": sorted(networks)})
    torch.manual_seed(spec.training["seed"])  # networks the files lack start as a run would
    gan = GAN(spec)
    fits = _fit_all(layout, spec, gan, held)
    _refuse_misfits(layout, spec, spec_file, overrides, fits, held)
    result = Imported(out)
    values = {ref: _mapped(fit, held[ref][1], gan.nets[fit.network])
              for ref, fit in fits.items()}
    if layout.spectral_norm == "one_step":
        for ref, fit in fits.items():
            _power_step(values[ref], fit)
    networks, averages = _assign(layout, spec, gan, values, result)
    _apply_extras(layout, spec, gan, extras, networks, averages, result)
    bad = first_nonfinite([(f"{n} '{k}'", v) for sd in (networks, averages)
                           for n, d in sd.items() for k, v in d.items()])
    if bad is not None:
        raise UserError(f"the imported weights hold non-finite values ({bad}): the file was "
                        "written after its training diverged")
    result.notes += list(layout.notes)
    state = {
        "spec_name": spec.name, "spec_text": spec.text(), "step": 0,
        "networks": networks, "optimizers": {}, "optimizer_types": {}, "sampler": {},
        "pools": {}, "term_states": {}, "rng": _fresh_rng(spec.training["seed"]),
        **({"ema": averages} if averages else {}),
        "imported": {"layout": layout.name, "reference": layout.reference, "files": records,
                     "networks": dict(result.sources)},
    }
    save_checkpoint(state, out)
    return result


def _fresh_rng(seed: int) -> dict[str, torch.Tensor]:
    """Generator states as a new run of the spec starts them: the layout every checkpoint
    has, although training from an imported one seeds its own (networks_only)."""
    from ganbuilder.train.streams import SEED_OFFSETS

    return {"torch": torch.Generator().manual_seed(seed).get_state(),
            **{name: torch.Generator().manual_seed(seed + SEED_OFFSETS[name]).get_state()
               for name in ("latent", "pool")}}


def _fit_all(layout: Layout, spec: Spec, gan: GAN,
             held: dict[str, tuple[Path, dict]]) -> dict[str, NetworkFit]:
    params = spec.tree.get("params") or {}
    fits = {}
    for m in layout.networks:
        if m.reference not in held:
            continue
        if m.network not in gan.nets:
            raise UserError(f"spec {spec.name} has no network {m.network}, which layout "
                            f"'{layout.name}' fills from {m.reference}: import into "
                            f"{layout.spec} or a spec extending it")
        state = held[m.reference][1]
        if layout.convert is not None:
            state = layout.convert(m.reference, state)
            held[m.reference] = (held[m.reference][0], state)
        mine = gan.nets[m.network].state_dict()
        # A batch norm's step counter changes nothing a trained network computes.
        optional = {k for k in mine if k.endswith("num_batches_tracked")
                    or any(re.fullmatch(p, k) for p in layout.spec_only)}
        fits[m.reference] = fit_network(m.reference, m.network, m.rules,
                                        {k: tuple(v.shape) for k, v in state.items()},
                                        {k: tuple(v.shape) for k, v in mine.items()},
                                        params, optional)
    return fits


def _refuse_misfits(layout: Layout, spec: Spec, spec_file: Path, overrides: list[str],
                    fits: dict[str, NetworkFit], held: dict[str, tuple[Path, dict]]) -> None:
    """One message for every network that does not fit, with the --set that would."""
    bad = [f for f in fits.values() if not f.ok]
    if not bad:
        return
    parts = [f"network {f.network} from {f.reference} ({held[f.reference][0].name}): "
             + "; ".join(f.problems()) for f in bad]
    shapes = {ref: {k: tuple(v.shape) for k, v in state.items()}
              for ref, (_, state) in held.items()}
    inferred = infer_params(layout, shapes)
    params = spec.tree.get("params") or {}
    changes = {k: v for k, v in inferred.items() if k in params and params[k] != v}
    hint = ""
    if changes:
        flags = " ".join(f"--set params.{k}={v}" for k, v in changes.items())
        made = ", ".join(f"{k}={v}" for k, v in changes.items())
        fits_then = _fits_with(layout, spec_file, overrides, changes, held)
        hint = (f". The file was made with {made}: {flags} fits it" if fits_then else
                f". The file was made with {made} ({flags}), which still does not fit this "
                "spec's layers")
    elif inferred:
        hint = ". Its params (" + ", ".join(f"{k}={v}" for k, v in inferred.items()) + \
            ") are the spec's: the spec's layers differ from the reference's"
    raise UserError(f"the file does not fit {spec_file} (layout '{layout.name}', "
                    f"{layout.reference}): " + " | ".join(parts) + hint)


def _fits_with(layout: Layout, spec_file: Path, overrides: list[str], changes: dict,
               held: dict[str, tuple[Path, dict]]) -> bool:
    try:
        spec = load_spec(spec_file, [*overrides, *(f"params.{k}={v}" for k, v in
                                                   changes.items())])
        gan = GAN(spec)
    except Exception:  # any spec the params do not make is simply no fit
        return False
    return all(f.ok for f in _fit_all(layout, spec, gan, held).values())


def _mapped(fit: NetworkFit, state: dict[str, torch.Tensor], net: torch.nn.Module
            ) -> dict[str, torch.Tensor]:
    """The spec network's full state dict, its keys filled from the reference's."""
    out = {k: v.detach().clone() for k, v in net.state_dict().items()}
    for ours, ref in fit.mapped.items():
        value = state[ref]
        if ours in fit.swapped:
            value = torch.cat(value.chunk(2, dim=fit.swapped[ours])[::-1], fit.swapped[ours])
        out[ours] = value.reshape(out[ours].shape).to(out[ours].dtype).clone()
    return out


class _Reached(Exception):
    """Stops a forward pass at the module whose input was wanted."""


@torch.no_grad()
def _mean_input(spec: Spec, gan: GAN, network: str, state: dict[str, torch.Tensor],
                key: str, draws: int) -> torch.Tensor | None:
    """The mean input of the module holding `key` over `draws` samples of the network's
    latent inputs, with the imported weights: the forward pass stops at that module, so the
    rest of the network (StyleGAN2's synthesis) never runs."""
    from ganbuilder.data.latent import sample_latent

    net = gan.nets[network]
    net.load_state_dict(state)
    net.eval()
    module = net.get_submodule(key.rpartition(".")[0])
    seen: list[torch.Tensor] = []

    def grab(_module, args):
        seen.append(args[0].detach())
        raise _Reached

    inputs = spec.analysis.networks[network].inputs
    drawn = sample_latent(spec.tree.get("latent") or {}, draws,
                          torch.Generator().manual_seed(0), torch.device("cpu"))
    if any(name not in drawn for name in inputs):  # a network of data: nothing to draw
        return None
    handle = module.register_forward_pre_hook(grab)
    try:
        net(*(drawn[name] for name in inputs))
    except _Reached:
        pass
    finally:
        handle.remove()
    if not seen:
        raise UserError(f"{network}: the module holding '{key}' was never reached")
    return seen[0].mean(0)


def _power_step(state: dict[str, torch.Tensor], fit: NetworkFit) -> None:
    """torch's spectral-norm vectors from the reference's u: v = normalize(u W), then
    u = normalize(W v), so that u . W v, torch's eval-mode sigma, is the reference's."""
    suffix = ".parametrizations.weight.0._u"
    for key in fit.mapped:
        if not key.endswith(suffix):
            continue
        base = key[: -len("0._u")]
        weight = state[base + "original"]
        matrix = weight.reshape(weight.shape[0], -1)  # dim 0: linear, conv, embedding
        u = state[key]
        v = torch.nn.functional.normalize(u @ matrix, dim=0, eps=1e-12)
        state[base + "0._v"] = v
        state[key] = torch.nn.functional.normalize(matrix @ v, dim=0, eps=1e-12)


def _assign(layout: Layout, spec: Spec, gan: GAN, values: dict[str, dict],
            result: Imported) -> tuple[dict[str, dict], dict[str, dict]]:
    """Each spec network's weights (its live ones, else the reference's average) and, for
    the networks `training.ema` averages, the average (the reference's, else the live)."""
    ema = spec.training.get("ema") or {}
    averaged = set(ema.get("networks") or [])
    networks, averages = {}, {}
    for name, net in gan.nets.items():
        live = [m.reference for m in layout.networks
                if m.network == name and not m.average and m.reference in values]
        avg = [m.reference for m in layout.networks
               if m.network == name and m.average and m.reference in values]
        if live and avg and name not in averaged:
            # No average kept: sample with the reference's, as its own sampling does.
            live = avg
            result.notes.append(f"{name} takes {avg[0]} (the reference's average; the spec "
                                "keeps none, so the live weights are not imported)")
        chosen = (live or avg or [None])[0]
        networks[name] = values[chosen] if chosen else {k: v.detach().clone()
                                                        for k, v in net.state_dict().items()}
        result.sources[name] = chosen or "initialised (the spec's init; not in the files)"
        if name in averaged:
            pick = (avg or live or [None])[0]
            averages[name] = {k: v.clone() for k, v in (values[pick] if pick else
                                                        networks[name]).items()}
    return networks, averages


def _apply_extras(layout: Layout, spec: Spec, gan: GAN, extras: dict[str, torch.Tensor],
                  networks: dict, averages: dict, result: Imported) -> None:
    params = spec.tree.get("params") or {}
    for extra in layout.extras:
        if extra.network not in networks:
            continue
        key = fill_template(extra.target, {}, params)
        value = extras.get(extra.entry)
        if value is None and extra.mean_of:
            state = averages.get(extra.network) or networks[extra.network]
            value = _mean_input(spec, gan, extra.network, state, key, extra.mean_of)
            result.notes.append(f"{extra.network} '{key}': no {extra.entry} in the file; "
                                f"measured over {extra.mean_of} draws of its inputs")
        if value is None:
            continue
        for states in (networks, averages):
            state = states.get(extra.network)
            if state is None:
                continue
            if key not in state or state[key].numel() != value.numel():
                raise UserError(f"{extra.entry} has shape {tuple(value.shape)}; the spec's "
                                f"{extra.network} '{key}' "
                                + (f"has {tuple(state[key].shape)}" if key in state
                                   else "does not exist"))
            state[key] = value.reshape(state[key].shape).to(state[key].dtype).clone()
        result.notes.append(f"{extra.network} '{key}' from {extra.entry}")


__all__ = ["Imported", "get_layout", "import_checkpoint", "parse_sources"]
