"""A spec as plain PyTorch source: one nn.Module class per network, needing only torch.

The source is written from the modules the compiler builds (so it cannot drift from what
ganbuilder trains) and their layer plans (for the comments naming each layer's spec path and
output shape). Chains become nn.Sequential subclasses; networks with skips or several inputs
keep the compiled `layers` ModuleList and get a `forward` written out with one named variable
per layer id. Either way the state_dict keys equal the compiled network's, so a checkpoint's
weights load directly. The few modules torch lacks (Residual, AdaIN, ...) are copied from
ganbuilder's own source into the file.
"""

from __future__ import annotations

import contextlib
import inspect
import keyword
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

from torch import nn
from torch.nn.utils import parametrize

from ganbuilder.compile.network import GraphNetwork, build_network, initialize
from ganbuilder.errors import UserError
from ganbuilder.layers import ada_modules as ada
from ganbuilder.layers import diffaugment as augment
from ganbuilder.layers import modules as custom
from ganbuilder.layers import style_modules as style
from ganbuilder.layers.init import INITS
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import format_path
from ganbuilder.spec.shapes import LayerPlan, NetworkPlan

WIDTH = 100  # the project's line length, so the file passes its ruff configuration
_INDENT = "    "

# Modules and helpers copied into the file by name; a helper goes in when emitted text calls it.
_CLASSES: dict[type, str] = {
    cls: cls.__name__ for cls in (
        custom.OneHot, custom.Concat, custom.Add, custom.Residual, custom.Projection,
        custom.Chunk, custom.GlobalPool, custom.ConditionalBatchNorm, custom.SelfAttention,
        style.PixelNorm, style.Constant, style.NoiseInjection, style.AdaIN, style.MinibatchStd,
        augment.DiffAugment, ada.AdaptiveAugment)
}
_HELPERS: dict[str, Callable | type] = {
    "spectral_norm": custom.spectral_norm, "RuntimeScale": style.RuntimeScale,
    "equalize": style.equalize, "is_equalized": style.is_equalized,
    "_per_sample": augment._per_sample, "brightness": augment.brightness,
    "saturation": augment.saturation, "contrast": augment.contrast,
    "translation": augment.translation, "cutout": augment.cutout,
    "_maybe": ada._maybe, "rotate90": ada.rotate90,
}
_NEEDS = {"equalize": ("RuntimeScale",), "is_equalized": ("RuntimeScale",),
          **{op: ("_per_sample",) for op in ("brightness", "saturation", "contrast")},
          # AdaptiveAugment passes these to _maybe uncalled, where the scan cannot see them.
          "_maybe": ("rotate90", "brightness", "saturation", "contrast", "_per_sample")}


def _pair(value) -> int | tuple:
    """torch stores square kernels, strides and paddings as (k, k); write them as k."""
    if isinstance(value, tuple) and len(set(value)) == 1:
        return value[0]
    return value


def _kwargs(module: nn.Module, defaults: dict[str, object], rename: dict[str, str] | None = None
            ) -> list[str]:
    """`name=value` for the attributes of `module` that differ from torch's defaults."""
    out = []
    for attr, default in defaults.items():
        value = _pair(getattr(module, attr))
        if value != default:
            out.append(f"{(rename or {}).get(attr, attr)}={value!r}")
    return out


def _conv(m: nn.Module) -> list[str]:
    args = [str(m.in_channels), str(m.out_channels), repr(_pair(m.kernel_size))]
    defaults: dict[str, object] = {"stride": 1, "padding": 0}
    if isinstance(m, nn.ConvTranspose2d):
        defaults["output_padding"] = 0
    defaults["dilation"] = 1
    return [*args, *_kwargs(m, defaults), *([] if m.bias is not None else ["bias=False"])]


def _norm(m: nn.Module) -> list[str]:
    defaults = {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True}
    if isinstance(m, nn.InstanceNorm2d):
        defaults.update(affine=False, track_running_stats=False)
    return [str(m.num_features), *_kwargs(m, defaults)]


def _inplace(m: nn.Module) -> list[str]:
    return ["inplace=True"] if m.inplace else []


# torch modules: constructor arguments read back from the instance.
_TORCH: dict[type, Callable[[nn.Module], list[str]]] = {
    nn.Conv2d: _conv,
    nn.ConvTranspose2d: _conv,
    nn.Linear: lambda m: [str(m.in_features), str(m.out_features),
                          *([] if m.bias is not None else ["bias=False"])],
    nn.Embedding: lambda m: [str(m.num_embeddings), str(m.embedding_dim)],
    nn.BatchNorm1d: _norm,
    nn.BatchNorm2d: _norm,
    nn.InstanceNorm2d: _norm,
    nn.LayerNorm: lambda m: [repr(list(m.normalized_shape)),
                             *_kwargs(m, {"eps": 1e-5, "elementwise_affine": True})],
    nn.ReLU: _inplace,
    nn.LeakyReLU: lambda m: [repr(m.negative_slope), *_inplace(m)],
    nn.ELU: lambda m: [repr(m.alpha), *_inplace(m)],
    nn.Tanh: lambda m: [],
    nn.Sigmoid: lambda m: [],
    nn.Dropout: lambda m: [repr(m.p)],
    nn.Upsample: lambda m: [f"scale_factor={m.scale_factor!r}", f"mode={m.mode!r}"],
    nn.ReflectionPad2d: lambda m: [repr(_pair(m.padding))],
    nn.AvgPool2d: lambda m: [repr(_pair(m.kernel_size)), repr(_pair(m.stride))],
    nn.Flatten: lambda m: [],
    nn.Unflatten: lambda m: [str(m.dim), repr(tuple(m.unflattened_size))],
}


def _sn(m: nn.Module) -> bool:
    return parametrize.is_parametrized(m, "weight") and not style.is_equalized(m)


def _custom_args(m: nn.Module) -> list[str]:
    """Constructor arguments of ganbuilder's own modules, read back from the instance."""
    if isinstance(m, custom.OneHot):
        return [str(m.classes)]
    if isinstance(m, custom.Projection):
        return [str(m.linear.in_features), str(m.embed.num_embeddings), repr(_sn(m.linear))]
    if isinstance(m, custom.Chunk):
        return [str(m.chunks), str(m.index)]
    if isinstance(m, custom.GlobalPool):
        return [repr(m.mode)]
    if isinstance(m, custom.ConditionalBatchNorm):
        rank = 3 if isinstance(m.norm, nn.BatchNorm2d) else 1
        return [str(m.norm.num_features), str(rank), str(m.gain.in_features),
                repr(m.norm.eps), repr(m.norm.momentum), repr(_sn(m.gain))]
    if isinstance(m, custom.SelfAttention):
        channels = m.query.in_channels
        return [str(channels), str(channels // m.query.out_channels), repr(_sn(m.query))]
    if isinstance(m, style.PixelNorm):
        return [repr(m.eps)]
    if isinstance(m, style.Constant):
        return [repr(tuple(m.value.shape)), *(["bias=True"] if m.bias is not None else [])]
    if isinstance(m, style.NoiseInjection):
        return [str(m.scale.numel())]
    if isinstance(m, style.AdaIN):
        return [str(m.affine.out_features // 2), str(m.affine.in_features), repr(m.eps)]
    if isinstance(m, style.MinibatchStd):
        return [str(m.group)]
    if isinstance(m, augment.DiffAugment):
        return [repr(m.policy), repr(m.translation_ratio), repr(m.cutout_ratio)]
    if isinstance(m, ada.AdaptiveAugment):
        return [repr(m.ops), repr(m.target), str(m.interval), str(m.ramp), repr(float(m.p)),
                repr(m.translation_ratio), repr(m.cutout_ratio)]
    return []  # Concat, Add


def _call(name: str, args: list[str], indent: str) -> str:
    """`name(a, b)` on one line when it fits, else one argument per line."""
    one = f"{name}({', '.join(args)})"
    if len(indent) + len(one) + 1 <= WIDTH and "\n" not in one:
        return one
    inner = indent + _INDENT
    body = "".join(f"{inner}{arg},\n" for arg in args)
    return f"{name}(\n{body}{indent})"


def _wrap_parametrized(m: nn.Module, text: str, indent: str) -> str:
    """The constructor wrapped as the compiler wraps it: spectral norm or equalized lr."""
    if style.is_equalized(m):
        weight = m.parametrizations.weight[0].scale
        bias = getattr(getattr(m, "parametrizations", None), "bias", None)
        lr_mul = bias[0].scale if bias is not None else 1.0
        gain = weight * m.weight.shape[1:].numel() ** 0.5 / lr_mul
        args = [text]
        if abs(gain - 2 ** 0.5) > 1e-12:
            args.append(f"gain={round(gain, 12)!r}")
        if lr_mul != 1.0:
            args.append(f"lr_mul={lr_mul!r}")
        return _call("equalize", args, indent)
    if parametrize.is_parametrized(m, "weight"):
        return _call("spectral_norm", [text], indent)
    return text


class _Writer:
    """Collects the source of one ejected file."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.used: set[str] = set()  # custom classes and helpers the file must define

    def module(self, m: nn.Module, plan: LayerPlan | None, indent: str) -> str:
        """A constructor expression for `m` (nested containers on their own lines)."""
        if isinstance(m, nn.Sequential):
            name = "Residual" if isinstance(m, custom.Residual) else "nn.Sequential"
            if name == "Residual":
                self.used.add(name)
            children = plan.children if plan is not None and plan.children else [None] * len(m)
            return self.sequence(name, list(m), children, indent,
                                 parent=plan.path if plan is not None else ())
        # Parametrizing a module swaps its class for a subclass (ParametrizedLinear).
        cls = type(m).__bases__[0] if parametrize.is_parametrized(m) else type(m)
        if cls in _TORCH:
            text = _call(f"nn.{cls.__name__}", _TORCH[cls](m), indent)
            return _wrap_parametrized(m, text, indent)
        if type(m) in _CLASSES:
            self.used.add(_CLASSES[type(m)])
            return _call(_CLASSES[type(m)], _custom_args(m), indent)
        # A plugin layer's module: its constructor arguments cannot be read back.
        kind, path = (plan.kind, format_path(plan.path)) if plan is not None else ("layer", "")
        raise self.spec.locate(UserError(
            f"{kind}: eject cannot write {type(m).__name__} modules as source", path))

    def sequence(self, name: str, items: list[nn.Module], plans: list, indent: str,
                 brackets: str = "()", comments: bool = True, parent: tuple = ()) -> str:
        """`name(` one item per line, each after a comment naming its layer, `)`; a run of
        equal containers (a residual block repeated) is written once, in a loop."""
        inner = indent + _INDENT
        opening, closing = brackets[:len(brackets) // 2], brackets[len(brackets) // 2:]
        entries = [(plan, self.module(m, plan, inner))
                   for m, plan in zip(items, plans, strict=True)]
        lines = [f"{name}{opening}"]
        i = 0
        while i < len(entries):
            plan, text = entries[i]
            run = 1
            while "\n" in text and i + run < len(entries) and entries[i + run][1] == text:
                run += 1
            if plan is not None and comments:
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


def _variable(name: str, taken: set[str]) -> str:
    """A Python name for a slot: the layer id itself when it can be one."""
    var = re.sub(r"\W", "_", name)
    if not var.isidentifier() or keyword.iskeyword(var) or var in taken:
        var = f"{var}_" if var.isidentifier() else f"x_{var}"
    while var in taken:
        var += "_"
    taken.add(var)
    return var


def _class_name(network: str, taken: set[str]) -> str:
    name = re.sub(r"\W", "_", network)
    name = name[0].upper() + name[1:] if name[0].isalpha() else f"Net_{name}"
    while name in taken or keyword.iskeyword(name):
        name += "Network"
    taken.add(name)
    return name


def _shape(shape: tuple) -> str:
    return repr(tuple(shape))


def _network_class(w: _Writer, name: str, cls: str, plan: NetworkPlan, module: nn.Module,
                   init_call: str | None) -> str:
    ins = ", ".join(f"{i} {_shape(s)}" for i, s in zip(plan.inputs, plan.input_shapes,
                                                       strict=True))
    doc = (f'    """Network {name} of spec {w.spec.name!r}: {ins} -> '
           f'{_shape(plan.output_shape)}."""')
    tail = [f"        {init_call}"] if init_call else []
    if isinstance(module, nn.Sequential):
        body = w.sequence("super().__init__", list(module), plan.layers, "        ")
        return "\n".join([f"class {cls}(nn.Sequential):", doc, "",
                          "    def __init__(self) -> None:", f"        {body}", *tail])
    assert isinstance(module, GraphNetwork)
    layers = w.sequence("nn.ModuleList", list(module.layers), plan.layers, "        ", "([])",
                        comments=False)  # `forward` names each layer
    taken = {"self", "layers", "torch", "nn"}
    slots = {slot: _variable(slot, taken) for slot in plan.inputs}
    ids = {layer.slot for layer in plan.layers if layer.slot != format_path(layer.path)}
    # A layer without an id is read by the next layer only, so one name serves them all.
    chained = _variable("x", taken | {layer.slot for layer in plan.layers if layer.slot in ids})
    args = ", ".join(f"{slots[i]}: torch.Tensor" for i in plan.inputs)
    forward = [f"    def forward(self, {args}) -> torch.Tensor:", "        layers = self.layers"]
    for k, layer in enumerate(plan.layers):
        slots[layer.slot] = _variable(layer.slot, taken) if layer.slot in ids else chained
        line = (f"        {slots[layer.slot]} = layers[{k}]"
                f"({', '.join(slots[s] for s in layer.sources)})")
        comment = f"  # {_describe(layer)}"
        forward.append(line + comment if len(line + comment) <= WIDTH else line)
    forward.append(f"        return {slots[plan.output_slot]}")
    return "\n".join([f"class {cls}(nn.Module):", doc, "",
                      "    def __init__(self) -> None:", "        super().__init__()",
                      f"        self.layers = {layers}", *tail, "", *forward])


def _source(obj) -> str:
    """ganbuilder's own definition of a module or helper, as it is in its file."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip()


def _init_source(kind: str) -> str:
    """The init scheme's weight function, its registration decorator dropped."""
    scheme = _source(INITS.get(kind).weight)
    return scheme[scheme.index("def "):].replace(": Any", ": torch.Tensor")


# The compiler's `initialize`, made to take its scheme as arguments: (old, new) edits of its
# source, each of which must apply, so a change there fails ejection loudly rather than drift.
_INITIALIZE_EDITS = (
    ("(module: nn.Module, init: dict | None) -> None:",
     "(module: nn.Module, weight_init, value: float, norm_std: float) -> None:"),
    ("    if not init:\n        return\n", ""),
    ("    (kind, value), = init.items()\n    scheme = INITS.get(kind)\n", ""),
    ("scheme.weight(weight, value)", "weight_init(weight, value)"),
    ("scheme.norm_std(value)", "norm_std"),
)


def _initialize_source(equalized: bool) -> str:
    text = _source(initialize)
    for old, new in _INITIALIZE_EDITS:
        if old not in text:
            raise RuntimeError(f"eject: compile.network.initialize no longer has {old!r}")
        text = text.replace(old, new)
    if not equalized:  # the check that skips equalized layers would only puzzle a reader
        text = "\n".join(line for line in text.splitlines()
                          if "is_equalized" not in line and "runtime scale" not in line)
    return text


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
    taken = set(_CLASSES.values()) | set(_HELPERS) | {"NETWORKS", "initialize", *INITS.names()}
    classes, names, inits = [], {}, []
    for name, plan in spec.analysis.networks.items():
        init = spec.tree["networks"][name].get("init")
        call = None
        if init:
            (kind, value), = init.items()
            call = (f"initialize(self, {kind}, {value!r}, "
                    f"norm_std={INITS.get(kind).norm_std(value)!r})")
            if kind not in inits:
                inits.append(kind)
        names[name] = _class_name(name, taken)
        classes.append(_network_class(w, name, names[name], plan, build_network(plan), call))
    parts = [_source(cls) for cls, cname in _CLASSES.items() if cname in w.used]
    equalized = bool(re.search(r"\bequalize\(", "\n".join(parts + classes)))
    if inits and equalized:
        w.used.add("is_equalized")
    defs = [*_helpers(w.used, "\n".join(parts + classes)), *parts,
            *[_init_source(kind) for kind in inits],
            *([_initialize_source(equalized)] if inits else []), *classes]
    tail = ""
    if with_training:
        from ganbuilder.export.training_loop import training_source  # it reads WIDTH here

        copied, loop = training_source(spec, taken | set(names.values()))
        defs += copied
        tail = f"\n\n\n{loop}"
    code = "\n\n\n".join(defs)
    scan = code + tail
    imports = ["from __future__ import annotations", ""]
    if re.search(r"\bmath\.", scan):
        imports += ["import math", ""]
    imports += [*(["import torch"] if re.search(r"\btorch\.", scan) else []),
                "from torch import nn"]
    if re.search(r"\bF\.", scan):
        imports.append("from torch.nn import functional as F")
    if re.search(r"\bparametrize\.", scan):
        imports.append("from torch.nn.utils import parametrize")
    entries = ", ".join(f"{n!r}: {c}" for n, c in names.items())
    table = f"NETWORKS: dict[str, type[nn.Module]] = {{{entries}}}"
    if len(table) > WIDTH:
        entries = "".join(f"    {n!r}: {c},\n" for n, c in names.items())
        table = f"NETWORKS: dict[str, type[nn.Module]] = {{\n{entries}}}"
    return (f"{_header(spec, overrides, with_training)}\n\n" + "\n".join(imports) + "\n\n\n"
            + code + "\n\n\n# The classes by the spec's network names.\n" + table + tail + "\n")


def _helpers(used: set[str], body: str) -> list[str]:
    """The sources of the helpers `body` calls (or `used` names), and of those they need."""
    chosen = {name for name in _HELPERS if name in used or re.search(rf"\b{name}\(", body)}
    chosen |= {dep for name in chosen for dep in _NEEDS.get(name, ())}
    return [_source(obj) for name, obj in _HELPERS.items() if name in chosen]
