"""`eject --with-training`: a spec's training iteration written out as plain PyTorch.

The loop follows the trainer step for step: the objectives in `training.order`, each `repeat`
times (every repeat after the first on a draw of its own), every loss term in its objective's
order (a lazy one, `every: n`, under `if self.step % n == 0`, weighted n times), backward into
the trained networks' parameters only, WGAN's clipping after the step.
Forward tensors are computed where the trainer's TensorCache computes them: `_Flow` is the
same ForwardCache (compile/forward_cache.py) making the same decisions on names, writing one
statement wherever the cache would compute a tensor (a tapped call, `fake.w`, through the
copied `tapped_call`). Each loss term is written as a call of
its own `compute`, copied into the file with what it uses, on a small `Context`
(loop_context.py) holding the tensors its entry says it reads (`LossDef.tensors_read`); the
GAN losses, optimizers, schedules, latent sampling and weight average are copied the same way,
so the file cannot drift from what ganbuilder trains, and a plugin's term is written like a
built-in one.
"""

from __future__ import annotations

import builtins
import re
import textwrap
from dataclasses import dataclass, field

from ganbuilder.compile.forward_cache import ForwardCache
from ganbuilder.compile.frozen import frozen_indices, layer_at
from ganbuilder.compile.taps import tapped_call
from ganbuilder.data.latent import sample_latent
from ganbuilder.data.registry import with_defaults
from ganbuilder.errors import UserError
from ganbuilder.export.loop_context import Context
from ganbuilder.export.pysource import (
    FILE_NAMES,
    INDENT,
    WIDTH,
    Names,
    assign,
    call,
    definition,
    definitions,
    mapping,
)
from ganbuilder.layers import LAYERS
from ganbuilder.layers.arithmetic_modules import aligned
from ganbuilder.layers.registry import forward_functions
from ganbuilder.losses.registry import GAN_LOSSES
from ganbuilder.optim._section import one_key
from ganbuilder.optim.optimizers import OPTIMIZERS
from ganbuilder.optim.schedules import SCHEDULES
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call
from ganbuilder.spec.paths import format_path
from ganbuilder.spec.terms import Term, eager_reads
from ganbuilder.train.ada import adapted_layers
from ganbuilder.train.ema import ema_settings, fold_weights
from ganbuilder.train.streams import ON_DEVICE, SEED_OFFSETS

# The names the written loop itself uses (its class, methods' locals and module constants):
# no tensor, loss or copied definition may take one.
_LOOP_NAMES = {"self", "t", "nets", "optimizers", "params", "factor", "group", "base", "p",
               "name", "shadow", "batch", "batches", "device", "seed", "steps", "log_every",
               "losses", "training", "_", "LATENT", "BATCH_SIZE", "NETWORKS", "Training",
               "GanLoss", "TERMS", "train", "FROZEN", "layers", "k"}


class _Flow(ForwardCache[str]):
    """The trainer's TensorCache for one draw, run on names: `get` gives the expression for a
    tensor in an objective and appends the statement computing it where the cache would
    compute it."""

    def __init__(self, spec: Spec, names: Names, lines: list[str], indent: str):
        super().__init__(spec.analysis)
        self.spec, self.names, self.lines, self.indent = spec, names, lines, indent
        self.inputs: list[str] = []  # data and latent tensors read, in order of first use
        self.forgotten: dict[str, Term] = {}  # entries a lazy term computed, by that term
        self.stored: set[str] = set()  # entries computed since `lazy` began

    def leaf(self, name: str) -> str:
        self.inputs.append(name)
        return self.names(name)

    def store(self, name: str, value: str) -> str:
        if name in self.forgotten:
            # The trainer reuses what the lazy term computed on the steps it runs, and
            # computes it anew on the others: one written statement cannot do both.
            term = self.forgotten[name]
            raise _refuse(self.spec, format_path(term.path), f"a term computed every few "
                          f"steps (every) that first computes {name}, which a later use reuses")
        self.stored.add(name)
        if value != self.names(name):  # (a tapped call assigned it already)
            self.lines.append(assign(self.indent, self.names(name), value))
        return self.names(name)

    def call_tapped(self, network: str, args: list[str], tensor: str,
                    taps: frozenset[str]) -> str:
        out = self.names(tensor)
        kept = self.names(f"taps:{tensor}", basis=f"{tensor}_taps")
        ids = "{" + ", ".join(repr(i) for i in sorted(taps)) + "}"
        self.lines.append(assign(self.indent, f"{out}, {kept}",
                                 f"{tapped_call.__name__}(nets[{network!r}], "
                                 f"[{', '.join(args)}], {ids})"))
        for layer_id in taps:
            self.values[f"{tensor}.{layer_id}"] = f"{kept}[{layer_id!r}]"
        return out

    def tap(self, name: str, graph: bool) -> str:
        return self.values[name] if graph else f"{self.values[name]}.detach()"

    def lazy(self, term: Term, write) -> None:
        """`write()` (a lazy term's statements, inside its `if`) on this flow, then its state
        as before, but for the data it read: on steps where the term rests nothing it
        computed exists, so no later statement may read it (`store` refuses a recompute)."""
        values, through, parts, handed_out = (dict(self.values), dict(self.through),
                                              dict(self.parts), set(self.handed_out))
        self.stored.clear()
        write()
        changed = self.stored | (self.handed_out - handed_out)
        self.forgotten.update({n: term for n in changed})
        data = {n: v for n, v in self.values.items() if n not in self.analysis.forward
                and "." not in n}  # data and latents: unpacked at the draw, on every step
        self.values = {n: v for n, v in {**values, **data}.items()
                       if n not in changed and n.split(".")[0] not in self.stored}
        self.through, self.parts, self.handed_out = through, parts, handed_out

    def detached(self, name: str) -> str:
        value = self.values[name]  # (a tensor no network produced has no graph to cut)
        return f"{value}.detach()" if self.analysis.producers.get(name) else value

    def number(self, value: float) -> str:
        return repr(value)

    def function(self, fn: str, args: list[str]) -> str:
        return _function_source(fn, args)

    def call(self, network: str, args: list[str]) -> str:
        return f"nets[{network!r}]({', '.join(args)})"


def _function_source(fn: str, args: list[str]) -> str:
    """A forward function as Python: concat as torch.cat, add, mul, scale and affine as
    operators; a lower-rank operand is aligned at the channels by the copied helper `aligned`,
    as the layers broadcast."""
    if fn == "concat":
        return f"torch.cat([{', '.join(args)}], dim=1)"
    first, rest = args[0], [f"aligned({a}, {args[0]}.dim())" for a in args[1:]]
    if fn == "scale":
        return f"({first} * {args[1]})"
    if fn == "affine":
        offset = f"{args[3]} + " if len(args) > 3 else ""
        return f"({first} * ({offset}{rest[0]}) + {rest[1]})"
    return "(" + f" {'+' if fn == 'add' else '*'} ".join([first, *rest]) + ")"


def _sum(indent: str, target: str, values: list[str]) -> str:
    """`target = a + b + ...` at `indent`, one operand per line past the file's width."""
    line = f"{indent}{target} = {' + '.join(values)}"
    if len(line) <= WIDTH:
        return line
    return (f"{indent}{target} = (\n{indent}{INDENT}" + f"\n{indent}{INDENT}+ ".join(values)
            + f"\n{indent})")


def _refuse(spec: Spec, path: str, why: str) -> UserError:
    return spec.locate(UserError(
        f"eject --with-training cannot write {why}; eject without --with-training writes the "
        "networks alone", path))


def _copied(objs: list, what: str, spec: Spec, path: str) -> dict[str, str]:
    """`definitions(objs)`, or a located UserError saying why `what` cannot be copied."""
    lambdas = [obj for obj in objs if obj.__name__ == "<lambda>"]
    if lambdas:
        raise _refuse(spec, path, f"{what}, whose code is a lambda")
    try:
        return definitions(objs, FILE_NAMES)
    except (RuntimeError, OSError, TypeError) as exc:  # OSError, TypeError: no source to read
        raise _refuse(spec, path, f"{what}: {exc}") from None


def _operand(expr: str) -> str:
    """`expr` as the right operand of `*`: parenthesised unless it is a name."""
    return expr if expr.isidentifier() else f"({expr})"


class _Loop:
    """Writes the training section of an ejected file."""

    def __init__(self, spec: Spec, taken: set[str]):
        self.spec = spec
        self.objectives = spec.objectives
        self.gan = GAN_LOSSES.get(spec.gan_loss)
        self.used = self._definitions()
        self.names = Names(set(taken) | set(self.used) | _LOOP_NAMES | set(dir(builtins)))
        self.inputs: list[str] = []  # the data and latent tensors the loop reads

    def _definitions(self) -> dict[str, str]:
        """What the file copies: every term's compute and the context it runs on, the GAN
        loss's functions; each term checked alone first, so a refusal names its place."""
        spec, objs = self.spec, [Context]
        for plan in spec.analysis.networks.values():
            for layer in adapted_layers(plan.layers):
                raise _refuse(spec, format_path(layer.path), f"the {layer.kind} layer's "
                              f"{LAYERS.get(layer.kind).adapted} (ganbuilder's trainer adapts "
                              "it)")
        for name, objective in self.objectives.items():
            if objective.terms and all(term.every != 1 for term in objective.terms):
                # The trainer's step would then hinge on the step count, and so would what
                # later objectives may reuse; one written step cannot follow both.
                raise _refuse(spec, format_path(("objectives", name)), "an objective whose "
                              "every term is computed every few steps (every)")
        if spec.analysis.taps:
            objs.append(tapped_call)  # a network call that also keeps some layers' outputs
        if frozen_indices(spec):
            objs.append(layer_at)  # frozen layers: no gradient, eval mode
        for name in spec.analysis.order:
            expr = spec.analysis.forward[name]
            if isinstance(expr, Call) and set(expr.calls()) & set(forward_functions()):
                objs.append(aligned)  # the written arithmetic broadcasts as the layers do
        for term in spec.analysis.terms:
            if term.params.get("relativistic") not in (None, "none") and (
                    self.gan.relativistic is None):
                raise _refuse(spec, format_path(term.path), f"a relativistic {spec.gan_loss} loss")
            _copied([term.definition.compute], f"the {term.kind} term", spec,
                     format_path(term.path))
            objs.append(term.definition.compute)
        gan = [f for f in (self.gan.d_loss, self.gan.g_loss, self.gan.relativistic) if f]
        _copied(gan, f"gan_loss {spec.gan_loss}", spec, "gan_loss")
        objs += gan
        if spec.tree.get("latent"):
            objs.append(sample_latent)
        if spec.training.get("ema"):
            objs.append(fold_weights)
        for name in spec.objective_order:
            kind, _ = self._optimizer(name)
            objs.append(OPTIMIZERS.get(kind).build)
        used = _copied(objs, "the loop's definitions together", spec, "objectives")
        schedule = self.schedule()
        if schedule is not None:
            factor = SCHEDULES.get(one_key(spec.training.get("schedule"), "constant")[0]).factor
            used.update({k: v for k, v in definitions([factor], FILE_NAMES).items()
                         if k != factor.__name__})
            used[schedule[0]] = definition(factor, schedule[0], FILE_NAMES)
        return used

    def _optimizer(self, objective: str) -> tuple[str, dict]:
        section = self.objectives[objective].optimizer or self.spec.training.get("optimizer")
        return one_key(section, "adam")

    # -- one objective's step ------------------------------------------------------------------
    def term(self, flow: _Flow, term: Term, updates: frozenset[str], indent: str) -> str:
        """The name holding one term's value, after the statements computing the tensors it
        reads and the call of its own compute on them."""
        tensors = {name: flow.get(name, updates) for name in term.read(updates)}
        value = self.names(f"term:{term.objective}:{term.index}",
                           basis=f"{term.label}_{term.objective}")
        read = ", ".join(f"{n!r}: {e}" for n, e in tensors.items())
        context = call("Context", ["self", repr(term.objective), repr(term.label),
                                   f"{{{read}}}"], indent + INDENT)
        key = f"{term.objective}/{term.label}"
        line = indent + call(f"{value}, _ = {term.definition.compute.__name__}",
                             [f"TERMS[{key!r}]", context], indent)
        flow.lines.append(line)
        return value

    def lazy_term(self, flow: _Flow, term: Term, updates: frozenset[str], loss: str,
                  indent: str) -> None:
        """A term computed every few steps (lazy regularisation), as the trainer runs it:
        skipped on the steps between, weighted by its interval on the steps it runs."""
        lines = flow.lines
        lines.append(f"{indent}if self.step % {term.every} == 0:  # lazy regularisation")
        inner = indent + INDENT
        flow.indent = inner

        def write() -> None:
            value = self.term(flow, term, updates, inner)
            lines.append(f"{inner}{loss} = {loss} + {term.weight!r} * {term.every} * {value}")

        flow.lazy(term, write)
        flow.indent = indent

    def objective(self, flow: _Flow, name: str, indent: str) -> None:
        objective = self.objectives[name]
        updates = frozenset(objective.updates)
        lines = flow.lines
        loss = self.names(f"loss:{name}", basis=f"loss_{name}")
        # The terms in order, summed as the trainer sums them: the eager ones as one sum up to
        # the next lazy term, which adds itself to the loss on the steps it runs.
        values: list[str] = []
        started = False  # whether `loss` holds a sum yet
        # The tensors the every-step terms read first, in forward order, as the trainer does.
        flow.prefetch(eager_reads(objective.terms, updates), updates)
        for term in [*objective.terms, None]:
            if term is not None and term.every == 1:
                value = self.term(flow, term, updates, indent)
                values.append(value if term.weight == 1 else
                              f"{term.weight!r} * {_operand(value)}")
                continue
            if values or (term is not None and not started):
                lines.append(_sum(indent, loss, [loss] * started + (values or ["0.0"])))
                values, started = [], True
            if term is not None:
                self.lazy_term(flow, term, updates, loss, indent)
        lines += [f"{indent}optimizers[{name!r}].zero_grad(set_to_none=True)",
                  f"{indent}{loss}.backward(inputs=params[{name!r}])  # the trained networks only",
                  f"{indent}optimizers[{name!r}].step()"]
        if objective.clip_weights is not None:
            c = objective.clip_weights
            lines += [f"{indent}with torch.no_grad():", f"{indent}    for p in params[{name!r}]:",
                      f"{indent}        p.clamp_({-c!r}, {c!r})"]
        flow.consumed(updates)

    def step_body(self) -> list[str]:
        """train_step's body: the draw, then every objective in order."""
        lines: list[str] = []
        indent = " " * 8
        flow = _Flow(self.spec, self.names, lines, indent)
        # Per draw: where its unpacking goes, at which indent, and the flow that reads it.
        draws: list[tuple[int, str, _Flow]] = [(0, indent, flow)]
        for name in self.spec.objective_order:
            repeat = self.objectives[name].repeat
            updates = ", ".join(self.objectives[name].updates)
            lines.append(f"{indent}# objective {name}: trains {updates}"
                         + (f", {repeat} times" if repeat > 1 else ""))
            self.objective(flow, name, indent)
            if repeat > 1:
                # Each later repeat draws anew, as the trainer does: a fresh cache, so one
                # loop body serves them all; later objectives read the last draw.
                lines.append(f"{indent}for _ in range(1, {repeat}):")
                flow = _Flow(self.spec, self.names, lines, indent + "    ")
                lines.append(f"{indent}    t = self.draw()")
                draws.append((len(lines), indent + "    ", flow))
                self.objective(flow, name, indent + "    ")
                flow.indent = indent  # later objectives read the last draw, after the loop
        for at, pad, drawn in reversed(draws):
            self.inputs += [n for n in drawn.inputs if n not in self.inputs]
            if drawn.inputs:
                names = ", ".join(self.names(n) for n in drawn.inputs)
                values = ", ".join(f"t[{n!r}]" for n in drawn.inputs)
                lines.insert(at, f"{pad}{names} = {values}")
        lines.insert(0, f"{indent}t = self.draw()")
        return lines

    def returned(self) -> str:
        losses = [f"{n!r}: {self.names(f'loss:{n}')}.detach()" for n in self.spec.objective_order]
        return mapping("return ", losses, " " * 8)

    # -- the set-up ----------------------------------------------------------------------------
    def optimizers(self) -> list[str]:
        out = []
        for name in self.spec.objective_order:
            kind, opts = self._optimizer(name)
            entry = OPTIMIZERS.get(kind)
            settings = fill_defaults(entry.params, opts)
            line = (f"            {name!r}: {entry.build.__name__}(self.params[{name!r}], "
                    f"{settings!r}),")
            if len(line) > WIDTH:
                items = [f"{k!r}: {v!r}" for k, v in settings.items()]
                line = (f"            {name!r}: {entry.build.__name__}(self.params[{name!r}], {{\n"
                        + "".join(f"                {item},\n" for item in items)
                        + "            }),")
            out.append(line)
        return out

    def schedule(self) -> tuple[str, dict] | None:
        """(the name of the copied factor function, its options) of training.schedule."""
        kind, opts = one_key(self.spec.training.get("schedule"), "constant")
        if kind == "constant":
            return None
        return f"{kind}_lr", fill_defaults(SCHEDULES.get(kind).params, opts)


@dataclass
class _Part:
    """What one training option adds to the written class."""

    init: list[str] = field(default_factory=list)  # at the end of __init__
    before: list[str] = field(default_factory=list)  # at the start of train_step
    after: list[str] = field(default_factory=list)  # once the step count has moved
    note: str = ""  # for the class's docstring


def _schedule(loop: _Loop) -> _Part:
    """training.schedule: every optimizer's lr, its base times the factor at this step."""
    schedule = loop.schedule()
    if schedule is None:
        return _Part()
    name, opts = schedule
    return _Part(
        init=[f"        self.lr_factor = {name}({opts!r}, steps)",
              "        self.base_lrs = {name: [g['lr'] for g in opt.param_groups]",
              "                         for name, opt in self.optimizers.items()}"],
        before=["        factor = self.lr_factor(self.step)",
                "        for name, opt in self.optimizers.items():",
                "            for group, base in zip(opt.param_groups, self.base_lrs[name],"
                " strict=True):",
                "                group['lr'] = base * factor"])


def _average(loop: _Loop) -> _Part:
    """training.ema: the networks' weight average, folded in after every step."""
    ema = ema_settings(loop.spec.training.get("ema"))
    if not ema:
        return _Part()
    copies = [f"{n!r}: {{k: v.detach().clone() for k, v in nets[{n!r}].state_dict().items()}}"
              for n in ema["networks"]]
    return _Part(
        init=[mapping("self.average = ", copies, "        ")],
        after=["        for name, shadow in self.average.items():",
               f"            {fold_weights.__name__}(shadow, nets[name], self.step, "
               f"{ema['decay']!r}, {ema['start']!r}, {ema['rampup']!r})"],
        note=f"`average` holds the average of {', '.join(ema['networks'])}'s weights "
             "(training.ema), to sample with: net.load_state_dict(training.average[name]); "
             "its batch norm statistics are the live network's, which ganbuilder measures "
             "anew for the average before it samples.")


def _precision(loop: _Loop) -> _Part:
    precision = loop.spec.training["precision"]
    if precision == "fp32":
        return _Part()
    return _Part(note=f"training.precision {precision} is not written out: the loop runs in "
                      "float32.")


def _state(loop: _Loop) -> _Part:
    """What the terms' context reads: the objectives' trained networks, the GAN loss, the
    generators (latents, image pools, penalties' interpolation weights, each seeded as the
    trainer seeds it), the terms' state and pools; the layer ids a term reads by."""
    spec = loop.spec
    # Drawn where the trainer draws them: latents and uniforms on the training device.
    generators = [f"        self.{stream}_generator = torch.Generator("
                  f"{'self.device' if stream in ON_DEVICE else ''}).manual_seed(seed + {offset})"
                  for stream, offset in SEED_OFFSETS.items()]
    updates = [f"{n!r}: frozenset({list(loop.objectives[n].updates)!r})"
               for n in spec.objective_order]
    # A term that reads a layer by id (feature matching) and a tapped call (`fake.w`) find
    # the layer as compiled networks do.
    read = {term.params[key] for term in spec.analysis.terms
            for key in (*term.definition.layers.values(), *term.definition.heads.values())}
    read |= {spec.analysis.forward[tensor].fn for tensor in spec.analysis.taps}
    # A term may read a network's heads (its `outputs`) by id too.
    read |= {n for term in spec.analysis.terms for n in term.networks.values()
             if n in spec.analysis.networks and spec.analysis.networks[n].outputs}
    ids = {n: spec.analysis.networks[n].layer_ids for n in sorted(read)}
    heads = {n: spec.analysis.networks[n].outputs for n in sorted(read)
             if spec.analysis.networks[n].outputs}
    return _Part(init=[
        *generators,
        mapping("self.updates = ", updates, "        "),
        "        self.gan_loss = GanLoss",
        "        self.term_states, self.pools = {}, {}",
        *(["        # The layers a term or a tap reads by id, as ganbuilder's networks hold them."]
          if ids else []),
        *(mapping(f"nets[{n!r}].layer_ids = ", [f"{k!r}: {v!r}" for k, v in i.items()],
                  "        ") for n, i in ids.items()),
        *(f"        nets[{n!r}].head_ids = {h!r}" for n, h in heads.items())])


def _gan_loss(loop: _Loop) -> str:
    """The spec's gan_loss as a class of its functions (ganbuilder's GanLoss)."""
    gan = loop.gan
    relativistic = (f"staticmethod({gan.relativistic.__name__})" if gan.relativistic
                    else "None")
    return "\n".join([
        "class GanLoss:",
        f'    """gan_loss {gan.name}: how critic outputs become losses (ganbuilder\'s GanLoss)."""',
        "",
        f"    name = {gan.name!r}",
        f"    threshold = {gan.threshold!r}  # splits real from fake for the critic's accuracy",
        f"    d_loss = staticmethod({gan.d_loss.__name__})",
        f"    g_loss = staticmethod({gan.g_loss.__name__})",
        f"    relativistic = {relativistic}"])


def _terms(spec: Spec) -> str:
    """TERMS: each loss term's parameters over their defaults, by objective/label (the key of
    its state), as the trainer hands them to the term."""
    lines = ["# Each loss term's parameters, by objective/label.", "TERMS = {"]
    for term in spec.analysis.terms:
        items = [f"{k!r}: {v!r}" for k, v in term.params.items()]
        key = f"{term.objective}/{term.label}"
        lines.append(mapping(f"{key!r}: ", items, INDENT) + ",")
    return "\n".join([*lines, "}"])


def _docstring(loop: _Loop, batch: int, notes: list[str]) -> str:
    spec = loop.spec
    latent = spec.tree.get("latent") or {}
    data = [n for n in loop.inputs if n not in latent]
    shapes = ", ".join(f"{n!r} {(batch, *spec.analysis.tensor_shapes[n])}" for n in data)
    images = any(len(spec.analysis.tensor_shapes[n]) == 3 for n in data)
    doc = textwrap.fill(
        f"One training iteration of spec {spec.name!r} at a time, as ganbuilder's trainer runs "
        "it, on `nets` (already on `device`). `batches` is an endless iterator (the trainer "
        "cycles its data) of full batches, dicts of data tensors on any device: "
        f"{shapes or 'none'}{', images in [-1, 1]' if images else ''}. " + " ".join(notes),
        88, initial_indent="    ", subsequent_indent="    ")
    return f'{doc[:4]}"""{doc[4:]}"""'


def training_source(spec: Spec, taken: set[str]) -> tuple[list[str], str]:
    """(the definitions the loop needs, copied from ganbuilder; the loop itself) for `spec`,
    or a located UserError naming the first thing the loop cannot write."""
    loop = _Loop(spec, taken)
    body = loop.step_body()
    optimizers = loop.optimizers()
    parts = [_state(loop), _schedule(loop), _average(loop), _precision(loop)]
    latent = spec.tree.get("latent") or {}
    draw = "batch"
    if latent:
        draw = (f"{{**batch, **{sample_latent.__name__}(LATENT, BATCH_SIZE, "
                "self.latent_generator, self.device)}")
    batch = with_defaults(spec.tree["data"])["batch_size"]
    steps, seed = spec.training["steps"], spec.training["seed"]
    params = [_trained_parameters(n, sorted(loop.objectives[n].updates))
              for n in spec.objective_order]
    frozen = frozen_indices(spec)
    weighted = [n for n, cfg in spec.tree["networks"].items() if cfg.get("weights")]
    notes = [f"Networks {', '.join(weighted)} start from weights files in ganbuilder "
             "(networks.<name>.weights): load them into `nets` before training."] if weighted \
        else []
    text = "\n".join([
        mapping("LATENT = ", [f"{k!r}: {v!r}" for k, v in latent.items()], "") if latent else "",
        f"BATCH_SIZE = {batch}",
        *([mapping("FROZEN = ", [f"{n!r}: {_indices(k)}" for n, k in frozen.items()], "")]
          if frozen else []),
        "",
        _terms(spec),
        "",
        "",
        _gan_loss(loop),
        "",
        "",
        "class Training:",
        _docstring(loop, batch, [part.note for part in parts if part.note] + notes),
        "",
        f"    def __init__(self, nets, batches, device='cpu', seed={seed}, steps={steps}):",
        "        self.nets, self.batches, self.device = nets, batches, torch.device(device)",
        "        self.step = 0",
        *(["        for net, layers in FROZEN.items():  # frozen: no gradient, eval mode",
           "            for k in layers:",
           f"                {layer_at.__name__}(nets[net], k).requires_grad_(False).eval()"]
          if frozen else []),
        *(line for part in parts[:1] for line in part.init),
        "        self.params = {", *(f"            {p}," for p in params), "        }",
        "        self.optimizers = {", *optimizers, "        }",
        *(line for part in parts[1:] for line in part.init),
        "",
        "    def draw(self) -> dict:",
        "        batch = {k: v.to(self.device) for k, v in next(self.batches).items()}",
        f"        return {draw}",
        "",
        "    def train_step(self) -> dict:",
        '        """One iteration; each objective\'s loss (a repeated one\'s last)."""',
        "        nets, optimizers, params = self.nets, self.optimizers, self.params",
        *(line for part in parts for line in part.before),
        *body,
        "        self.step += 1",
        *(line for part in parts for line in part.after),
        loop.returned(),
        "",
        "",
        f"def train(batches, steps={steps}, device='cpu', seed={seed}, log_every=100) -> dict:",
        '    """The networks, built and trained for `steps` iterations on `batches`."""',
        "    torch.manual_seed(seed)",
        "    nets = {name: cls().to(device) for name, cls in NETWORKS.items()}",
        "    training = Training(nets, batches, device, seed, steps)",
        "    for _ in range(steps):",
        "        losses = training.train_step()",
        "        if training.step % log_every == 0:",
        "            print(training.step, {k: round(float(v), 4) for k, v in losses.items()})",
        "    return nets",
    ]).lstrip("\n")
    return list(loop.used.values()), _unused_outputs(text)


def _trained_parameters(objective: str, updates: list[str]) -> str:
    """One entry of the written `params`: the objective's networks' trainable parameters,
    wrapped before its condition where one line would pass the file's width."""
    head = f"{objective!r}: [p for net in {updates!r} for p in nets[net].parameters()"
    if len(f"            {head} if p.requires_grad],") <= WIDTH:
        return f"{head} if p.requires_grad]"
    return f"{head}\n{' ' * (12 + len(repr(objective)) + 3)}if p.requires_grad]"


def _indices(indices: list[int]) -> str:
    """A list of layer indices as Python, a run of consecutive ones as a range."""
    parts, start = [], 0
    while start < len(indices):
        end = start
        while end + 1 < len(indices) and indices[end + 1] == indices[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"*range({indices[start]}, {indices[end] + 1})")
        else:
            parts.extend(str(i) for i in indices[start:end + 1])
        start = end + 1
    return f"[{', '.join(parts)}]"


def _unused_outputs(text: str) -> str:
    """A tapped call whose output nothing reads (a critic read for its layers alone) assigns
    it to an underscored name, as Python's linters expect."""
    for name in re.findall(r"^\s+(\w+), \w+ = tapped_call\(", text, flags=re.M):
        if len(re.findall(rf"\b{name}\b", text)) == 1:
            text = re.sub(rf"^(\s+){name}(, \w+ = tapped_call\()", rf"\1_{name}\2", text,
                          flags=re.M)
    return text
