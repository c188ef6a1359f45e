"""Import layouts: how another project's checkpoint files map onto a ganbuilder spec.

A layout is one registry entry, written as data: for each network of the reference project
(`G_A`, `g_ema`, `netD`), the spec network it becomes and the key map, a list of rules from
the reference's state-dict keys to the spec's (a regular expression with named groups, and
the spec's key as a template whose `{...}` parts are param arithmetic over the groups and the
spec's params). Every mapped tensor's shape is checked key by key; `infer` says which spec
params the file's keys and shapes imply, so a file that does not fit names the `--set` that
would. Nothing here imports torch: `ganbuilder import --help` lists the layouts cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganbuilder.registry import Registry


@dataclass(frozen=True)
class Rule:
    """One line of a key map: reference keys matching `pattern` (a full match) become the
    spec's key `target` (`{expr}` parts: param arithmetic over the named groups, which are
    integers, and the spec's params); `target` None drops the key (a buffer the spec computes
    itself, or state the reference keeps for training only). `reshape`: the two shapes differ
    only in how the same values are laid out (size-1 axes), so the tensor is reshaped;
    `swap_halves`: see below."""

    pattern: str
    target: str | None
    reshape: bool = False
    # The axis whose two halves trade places: the layer reads a concatenation the reference
    # joins the other way round (pix2pix's skip first, the spec's `concat` the skip last).
    swap_halves: int | None = None


@dataclass(frozen=True)
class NetworkMap:
    """One reference network: its name in the reference (a file's key, or the name a file of
    that network alone goes by), the spec network it fills, and its key map. `average`: the
    reference's exponential moving average of that network (g_ema, G_ema), which fills the
    spec's `training.ema` copy, or the network itself when the spec keeps no average and the
    file has no live weights for it. `files`: regular expressions (searched in a file's name)
    that say a file holds this network alone (`latest_net_G_A.pth`)."""

    reference: str
    network: str
    rules: tuple[Rule, ...]
    average: bool = False
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extra:
    """A top-level tensor of a file that is not a network's state dict (rosinality's
    `latent_avg`): it fills the spec network's key `target` (a template like a Rule's)."""

    entry: str
    network: str
    target: str
    reshape: bool = True
    # Without the entry in the file: the mean input of the module holding `target` over this
    # many draws of the network's latent inputs (rosinality's mean_latent(4096)); 0: none.
    mean_of: int = 0


@dataclass(frozen=True)
class Layout:
    """Everything `ganbuilder import` knows of one project's checkpoint files."""

    name: str
    description: str
    reference: str                        # the project, as owner/name
    spec: str                             # the shipped spec the layout maps into
    networks: tuple[NetworkMap, ...]
    # name -> ("shape", reference network(s), key or keys (the first the file has), axis) |
    # ("count", reference network(s), regex):
    # facts read from a file, named for the `infer` expressions.
    facts: dict[str, tuple] = field(default_factory=dict)
    # spec param -> param arithmetic over the facts: the value the file was made with.
    infer: dict[str, str] = field(default_factory=dict)
    extras: tuple[Extra, ...] = ()
    # Top-level keys of a file whose value is its one network's state dict, in order of
    # preference (BasicSR's `params_ema`, then `params`).
    wrappers: tuple[str, ...] = ()
    # Spec keys (regular expressions) no file fills: buffers the spec's layers compute from
    # their parameters (blur kernels), or state an Extra fills when the file has it.
    spec_only: tuple[str, ...] = ()
    # Classes of plain values some files of the project hold (rosinality's argparse options),
    # which torch's weights-only loader may build: data, never code.
    safe_globals: tuple[str, ...] = ()
    # What to do with a file that needs code to load (a pickled network module or snapshot).
    code_advice: str = ("save the networks' state dicts instead, where the project's code is "
                        "at hand: torch.save(net.state_dict(), 'net.pth')")
    # Optional value conversion of one reference network's state dict before its keys are
    # mapped (another spectral-norm convention, say), given the reference network's name.
    convert: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    # "one_step": the files keep each spectrally normalised weight's left singular vector
    # estimate (mapped to torch's `_u`) and take one power-iteration step from it at every
    # forward pass (BigGAN-PyTorch); the importer takes that step once, so that torch's
    # eval-mode u . W v with the stored u and v is the reference's singular value.
    spectral_norm: str | None = None
    notes: tuple[str, ...] = ()           # said in docs and by the importer: known differences


LAYOUTS: Registry[Layout] = Registry("import layout")


def register(layout: Layout) -> Layout:
    """Add a layout (a built-in's module, or a plugin's) to the registry."""
    return LAYOUTS.add(layout.name, layout)
