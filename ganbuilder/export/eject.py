"""A spec as plain PyTorch source: one nn.Module class per network, needing only torch.

The source is written from the calls the compiler makes (each layer's `Construct`, from its
registry entry's builder, so it cannot drift from what ganbuilder trains) and the layer plans
(for the comments naming each layer's spec path and output shape). Chains become
nn.Sequential subclasses; networks with skips or several inputs keep the compiled `layers`
ModuleList and get a `forward` written out with one named variable per layer id. Either way
the state_dict keys equal the compiled network's, so a checkpoint's weights load directly.
The modules torch lacks (Residual, AdaIN, a plugin's, ...) are copied from their own source
into the file, with the functions and classes they call (pysource.definitions).
"""

from __future__ import annotations

import contextlib
import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

from torch import nn

from ganbuilder.compile.network import init_weights, layer_constructs
from ganbuilder.errors import UserError
from ganbuilder.export.pysource import FILE_NAMES, INDENT, WIDTH, Names, call, definitions
from ganbuilder.layers import CONTAINERS
from ganbuilder.layers.construct import Construct
from ganbuilder.layers.init import INITS
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import format_path
from ganbuilder.spec.shapes import LayerPlan, NetworkPlan

_NO_DEFAULT = inspect.Parameter.empty


def _defaults(fn: Callable) -> dict[str, object]:
    """The keyword defaults of `fn` (a class: its constructor's); {} when it has no signature."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not _NO_DEFAULT}


def _is_default(value: object, default: object) -> bool:
    return type(value) is type(default) and value == default


class _Writer:
    """Collects the source of one ejected file: expressions for the layers' constructs, and
    the ganbuilder definitions (modules torch lacks, their helpers) they call."""

    def __init__(self, spec: Spec | None):
        self.spec = spec  # where a layer it cannot write is located
        self.used: list[Callable] = []  # ganbuilder's (or a plugin's) definitions, to copy

    def head(self, fn: Callable) -> str:
        """How the file names `fn`: torch's modules as `nn.X`, anything else copied in."""
        if getattr(nn, fn.__name__, None) is fn:
            return f"nn.{fn.__name__}"
        if fn.__module__.split(".")[0] == "torch":
            raise RuntimeError(f"eject writes torch's modules as nn.<name>, and "
                               f"{fn.__module__}.{fn.__qualname__} is not one: construct it "
                               "from a function or class of your own")
        if fn not in self.used:
            self.used.append(fn)
        return fn.__name__

    def expression(self, made: Construct, indent: str) -> str:
        """`fn(args, keyword=value)`: the call as its builder wrote it, keywords at their
        default left out, nested constructs written inside."""
        inner = indent + INDENT
        args = [self.value(a, inner) for a in made.args]
        defaults = _defaults(made.fn)
        args += [f"{k}={self.value(v, inner)}" for k, v in made.kwargs.items()
                 if k not in defaults or not _is_default(v, defaults[k])]
        return call(self.head(made.fn), args, indent)

    def value(self, value: object, indent: str) -> str:
        return self.expression(value, indent) if isinstance(value, Construct) else repr(value)

    def layer(self, made: object, plan: LayerPlan, indent: str) -> str:
        """A constructor expression for one layer (a container's layers on their own lines)."""
        if not isinstance(made, Construct):
            # A plugin's builder that returns its module: its arguments cannot be read back.
            raise self.spec.locate(UserError(
                f"{plan.kind}: eject cannot write {type(made).__name__} modules as source "
                "(a builder that returns construct(...) can be ejected)", format_path(plan.path)))
        if plan.kind in CONTAINERS:
            return self.sequence(self.head(made.fn), list(made.args), plan.children, indent,
                                 parent=plan.path)
        return self.expression(made, indent)

    def sequence(self, name: str, items: list, plans: list[LayerPlan], indent: str,
                 brackets: str = "()", comments: bool = True, parent: tuple = ()) -> str:
        """`name(` one item per line, each after a comment naming its layer, `)`; a run of
        equal containers (a residual block repeated) is written once, in a loop."""
        inner = indent + INDENT
        opening, closing = brackets[:len(brackets) // 2], brackets[len(brackets) // 2:]
        entries = [(plan, self.layer(made, plan, inner))
                   for made, plan in zip(items, plans, strict=True)]
        lines = [f"{name}{opening}"]
        i = 0
        while i < len(entries):
            plan, text = entries[i]
            run = 1
            while "\n" in text and i + run < len(entries) and entries[i + run][1] == text:
                run += 1
            if comments:
                lines.append(_comment(plan, parent, inner, run))
            if run > 1:
                # Built in the same order as the compiler's, so keys and init draws agree.
                lines.append(f"{inner}*({text} for _ in range({run})),")
            else:
                lines.append(f"{inner}{text},")
            i += run
        lines.append(f"{indent}{closing}")
        return "\n".join(lines)


def _comment(plan: LayerPlan, parent: tuple, indent: str, run: int = 1) -> str:
    """`# path: kind -> shape`, the path relative to the enclosing container; for a run of
    `run` equal layers, the first's path and the count."""
    what = f"repeat x{plan.params['times']}" if plan.kind == "repeat" else plan.kind
    if run > 1:
        what = f"{run} x {what}"
    path = format_path(plan.path[len(parent):]) if parent else format_path(plan.path)
    if run > 1:
        path += f" to [{plan.path[-1] + run - 1}]"
    line = f"{indent}# {path}: {what} -> {_shape(plan.out_shape)}"
    return line if len(line) <= WIDTH else f"{indent}# {what} -> {_shape(plan.out_shape)}"


def _describe(plan: LayerPlan) -> str:
    return _comment(plan, (), "").removeprefix("# ")


def _shape(shape: tuple) -> str:
    return repr(tuple(shape))


def _class_basis(network: str) -> str:
    """A network's class name: its name capitalised."""
    return network[0].upper() + network[1:] if network[0].isalpha() else f"Net_{network}"


def _network_body(w: _Writer, name: str, plan: NetworkPlan, init_call: str | None
                  ) -> tuple[str, list[str]]:
    """(the base class, the class body after its docstring) of network `name`."""
    made = layer_constructs(plan)
    tail = [f"        {init_call}"] if init_call else []
    if plan.is_chain:
        body = w.sequence("super().__init__", made, plan.layers, "        ")
        return "nn.Sequential", ["    def __init__(self) -> None:", f"        {body}", *tail]
    layers = w.sequence("nn.ModuleList", made, plan.layers, "        ", "([])",
                        comments=False)  # `forward` names each layer
    ids = {layer.slot for layer in plan.layers if layer.slot != format_path(layer.path)}
    names = Names({"self", "layers", "torch", "nn"})
    slots = {slot: names(slot) for slot in plan.inputs}
    # A layer without an id is read by the next layer only, so one name serves them all.
    chained = Names(names.taken | ids)("x")
    names.taken.add(chained)
    args = ", ".join(f"{slots[i]}: torch.Tensor" for i in plan.inputs)
    head = f"    def forward(self, {args}) -> torch.Tensor:"
    if len(head) > WIDTH:  # many inputs (CUT's MLP heads): one per line
        head = "\n".join(["    def forward(", "        self,",
                           *(f"        {slots[i]}: torch.Tensor," for i in plan.inputs),
                           "    ) -> torch.Tensor:"])
    forward = [head, "        layers = self.layers"]
    read = {s for layer in plan.layers for s in layer.sources} | {plan.output_slot}
    for k, layer in enumerate(plan.layers):
        slots[layer.slot] = names(layer.slot) if layer.slot in ids else chained
        # A head no layer reads (one of `outputs` besides the first) is computed for the hooks
        # that read it, and kept in no variable.
        target = f"{slots[layer.slot]} = " if layer.slot in read else ""
        line = (f"        {target}layers[{k}]"
                f"({', '.join(slots[s] for s in layer.sources)})")
        comment = f"  # {_describe(layer)}"
        forward.append(line + comment if len(line + comment) <= WIDTH else line)
    forward.append(f"        return {slots[plan.output_slot]}")
    return "nn.Module", ["    def __init__(self) -> None:", "        super().__init__()",
                         f"        self.layers = {layers}", *tail, "", *forward]


def _imports(code: str) -> list[str]:
    """The import lines `code` needs: torch's and the standard library's math only."""
    imports = ["from __future__ import annotations", ""]
    if re.search(r"\bmath\.", code):
        imports += ["import math", ""]
    imports += [*(["import torch"] if re.search(r"\btorch\.", code) else []),
                "from torch import nn"]
    if re.search(r"\bF\.", code):
        imports.append("from torch.nn import functional as F")
    if re.search(r"\bparametrize\.", code):
        imports.append("from torch.nn.utils import parametrize")
    return imports


def module_source(made: Construct) -> str:
    """A file building one module, as eject writes it in a network: the definitions it calls
    and `build()` returning it; how a layer's ejection is checked, a plugin's among them."""
    w = _Writer(None)
    expression = w.expression(made, INDENT)
    code = "\n\n\n".join([*definitions(w.used).values(),
                           f"def build() -> nn.Module:\n{INDENT}return {expression}"])
    return "\n".join(_imports(code)) + "\n\n\n" + code + "\n"


def _header(spec: Spec, overrides: list[str] | tuple[str, ...], with_training: bool) -> str:
    sets = "".join(f" --set {o}" for o in overrides)
    file = Path(spec.file)
    with contextlib.suppress(ValueError):
        file = file.relative_to(Path.cwd())
    lines = [
        *textwrap.wrap(f"Networks of the GAN spec {spec.name!r} ({file}{sets}) as plain "
                       "PyTorch, written by `ganbuilder eject`; it needs nothing but torch and "
                       "the standard library.", 96),
        "",
        "Each class's state_dict has the keys of ganbuilder's compiled network, so a",
        "checkpoint's weights load directly:",
        "",
        "    state = torch.load(\"last.pt\", weights_only=True)",
        "    net = NETWORKS[\"<name>\"]()",
        "    net.load_state_dict(state[\"networks\"][\"<name>\"])",
        "",
        "(A run with training.ema keeps its averaged weights under state[\"ema\"].)",
        *(["", "The training loop (`train`, `Training`) follows the spec's objectives as",
           "ganbuilder's trainer runs them; bring the data as an endless iterator of batches:",
           "", "    nets = train(itertools.cycle(my_batches))"] if with_training else []),
    ]
    text = "\n".join(line.replace("\\", "/").replace('"""', "'''") for line in lines)
    return f'"""{text}\n"""'


def eject_source(spec: Spec, overrides: list[str] | tuple[str, ...] = (),
                 with_training: bool = False) -> str:
    """The Python source of every network of `spec`, with its init scheme, and with
    `with_training` its training loop (training_loop.py); imports torch only (and math, from
    the standard library, where equalized learning rate or a cosine schedule needs it)."""
    w = _Writer(spec)
    bodies, schemes = {}, []
    for name, plan in spec.analysis.networks.items():
        init = spec.tree["networks"][name].get("init")
        call_ = None
        if init:
            (kind, value), = init.items()
            scheme = INITS.get(kind)
            call_ = (f"{init_weights.__name__}(self, {scheme.weight.__name__}, {value!r}, "
                     f"norm_std={scheme.norm_std(value)!r})")
            if scheme.weight not in schemes:
                schemes.append(scheme.weight)
        bodies[name] = _network_body(w, name, plan, call_)
    copied = definitions([*w.used, *schemes, *([init_weights] if schemes else [])])
    # A network named F (CUT's MLP heads) must not hide the file's torch.nn.functional.
    names = Names({*copied, *FILE_NAMES, "NETWORKS"}, suffix="Network")
    classes = []
    for name, plan in spec.analysis.networks.items():
        cls = names(name, basis=_class_basis(name))
        ins = ", ".join(f"{i} {_shape(s)}" for i, s in zip(plan.inputs, plan.input_shapes,
                                                           strict=True))
        base, body = bodies[name]
        classes.append("\n".join([
            f"class {cls}({base}):",
            f'    """Network {name} of spec {spec.name!r}: {ins} -> '
            f'{_shape(plan.output_shape)}."""', "", *body]))
    defs = [*copied.values(), *classes]
    table_names = {name: names(name) for name in spec.analysis.networks}
    tail = ""
    if with_training:
        from ganbuilder.export.training_loop import training_source  # only this option needs it

        loop_defs, loop = training_source(spec, set(names.taken))
        defs += loop_defs
        tail = f"\n\n\n{loop}"
    code = "\n\n\n".join(defs)
    imports = _imports(code + tail)
    entries = ", ".join(f"{n!r}: {c}" for n, c in table_names.items())
    table = f"NETWORKS: dict[str, type[nn.Module]] = {{{entries}}}"
    if len(table) > WIDTH:
        entries = "".join(f"    {n!r}: {c},\n" for n, c in table_names.items())
        table = f"NETWORKS: dict[str, type[nn.Module]] = {{\n{entries}}}"
    return (f"{_header(spec, overrides, with_training)}\n\n" + "\n".join(imports) + "\n\n\n"
            + code + "\n\n\n# The classes by the spec's network names.\n" + table + tail + "\n")

