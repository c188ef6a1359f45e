"""`eject --with-training`: a spec's training iteration written out as plain PyTorch.

The loop follows the trainer step for step: the objectives in `training.order`, each `repeat`
times (every repeat after the first on a draw of its own), every loss term in its objective's
order, backward into the trained networks' parameters only, WGAN's clipping after the step.
Forward tensors are computed as the trainer's TensorCache computes them; the cache's choices
depend only on names (which objective trains which network), so `_Flow` replays them while
writing and emits one statement wherever the cache would compute a tensor. The loss kinds,
optimizers, schedules, latent sampling and penalties are copied from ganbuilder's own
definitions, so the file cannot drift from what ganbuilder trains.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from ganbuilder.compile.model import spent_graphs
from ganbuilder.data.latent import sample_latent
from ganbuilder.data.registry import with_defaults
from ganbuilder.errors import UserError
from ganbuilder.export.eject import WIDTH
from ganbuilder.losses import critic_inputs, feature_matching
from ganbuilder.losses import terms as loss_terms
from ganbuilder.losses.pool import HistoryPool
from ganbuilder.losses.registry import GAN_LOSSES
from ganbuilder.optim._section import one_key
from ganbuilder.optim.optimizers import OPTIMIZERS
from ganbuilder.optim.schedules import SCHEDULES
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call
from ganbuilder.spec.paths import format_path
from ganbuilder.train.ema import fold_weights

SUPPORTED = ("adversarial", "gradient_penalty", "r1_penalty", *loss_terms.DISTANCES,
             "classification",
             "mutual_info", "began", "orthogonal_reg", "feature_matching")
_RESERVED = {"self", "t", "nets", "optimizers", "params", "factor", "group", "base", "alpha",
             "p", "torch", "nn", "F", "math", "d_loss", "g_loss", "sample_latent", "LATENT",
             "BATCH_SIZE", "NETWORKS", "Training", "train", "interpolate_penalty", "r1",
             "_input_gradient", "pack", "relativistic_loss", "f1", "HistoryPool", "info_loss",
             "code_errors",
             "reconstruction_error", "began_k", "orthogonal_penalty", "_raw_weights",
             "hooked_output", "feature_distance", "fold_weights", "name", "shadow",
             *dir(builtins)}  # the file calls len, range, zip: no tensor may hide them


def _source(fn: Callable, name: str | None = None) -> str:
    """ganbuilder's definition of `fn`, its decorators dropped and annotations the file cannot
    resolve removed; renamed to `name` when given."""
    text = textwrap.dedent(inspect.getsource(fn)).rstrip()
    text = text[re.search(r"^(def|class) ", text, re.MULTILINE).start():]
    for old, new in (("parameters: Iterable[Any]", "parameters"), (" -> Factor", ""),
                     ("f1: Callable[[Any], Any]", "f1"),
                     (" -> torch.optim.Optimizer", "")):
        text = text.replace(old, new)
    if name is not None and name != fn.__name__:
        text = text.replace(f"def {fn.__name__}(", f"def {name}(", 1)
    return text


class _Names:
    """Python names for the spec's tensors and objectives, clear of the file's own."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken) | _RESERVED
        self.names: dict[str, str] = {}

    def __call__(self, key: str, prefix: str = "", basis: str | None = None) -> str:
        """The name for `key` (the same on every call), made from `basis` or the key."""
        if key not in self.names:
            name = prefix + "".join(c if c.isalnum() or c == "_" else "_" for c in basis or key)
            if not name.isidentifier():
                name = f"x_{name}"
            while name in self.taken or keyword.iskeyword(name):
                name += "_"
            self.taken.add(name)
            self.names[key] = name
        return self.names[key]


class _Flow:
    """The trainer's TensorCache for one draw, replayed on names: `get` gives the expression
    for a tensor in an objective and appends the statement computing it where the cache
    would compute it."""

    def __init__(self, spec: Spec, names: _Names, lines: list[str], indent: str):
        self.analysis = spec.analysis
        self.names, self.lines, self.indent = names, lines, indent
        self.known: set[str] = set()
        self.through: dict[str, frozenset[str]] = {}
        self.parts: dict[str, frozenset[str]] = {}
        self.handed_out: set[str] = set()
        self.inputs: list[str] = []  # data and latent tensors read, in order of first use

    def get(self, name: str, updates: frozenset[str]) -> str:
        if name not in self.analysis.forward:  # data or latent: a leaf, never with a graph
            if name not in self.inputs:
                self.inputs.append(name)
            return self.names(name)
        wanted = self.analysis.producers.get(name, set()) & updates
        if name not in self.known or not wanted <= self.through.get(name, frozenset()):
            through: set[str] = set()
            parts: set[str] = set()
            expr = self._eval(self.analysis.forward[name], updates, through, parts)
            self.lines.append(_assign(self.indent, self.names(name), expr))
            self.known.add(name)
            self.through[name], self.parts[name] = frozenset(through), frozenset(parts)
        if not wanted:  # (a tensor no network produced has no graph to cut)
            produced = self.analysis.producers.get(name)
            return f"{self.names(name)}.detach()" if produced else self.names(name)
        self.handed_out.add(name)
        return self.names(name)

    def _has_graph(self, name: str, updates: frozenset[str]) -> bool:
        return name in self.analysis.forward and bool(
            self.analysis.producers.get(name, set()) & updates)

    def _eval(self, expr: Call | str, updates: frozenset[str], through: set[str],
              parts: set[str]) -> str:
        if isinstance(expr, str):
            value = self.get(expr, updates)
            if self._has_graph(expr, updates):
                through |= self.through.get(expr, frozenset())
                parts.add(expr)
            return value
        args = [self._eval(a, updates, through, parts) for a in expr.args]
        if expr.fn == "concat":
            return f"torch.cat([{', '.join(args)}], dim=1)"
        through.add(expr.fn)
        return f"nets[{expr.fn!r}]({', '.join(args)})"

    def consumed(self, updates: frozenset[str]) -> None:
        for name in spent_graphs(self.handed_out, self.parts, self.through, updates):
            self.through[name] = frozenset()
        self.handed_out.clear()


def _mapping(head: str, items: list[str], indent: str) -> str:
    """`head{a, b}` on one line when it fits the file's width, else one item per line."""
    line = f"{indent}{head}{{{', '.join(items)}}}"
    if len(line) <= WIDTH:
        return line
    body = "".join(f"{indent}    {item},\n" for item in items)
    return f"{indent}{head}{{\n{body}{indent}}}"


def _assign(indent: str, target: str, expr: str) -> str:
    """`target = expr` at `indent`; past the file's width, a call's arguments go on the next
    line (one statement still, so the order of evaluation is the same)."""
    line = f"{indent}{target} = {expr}"
    if len(line) <= WIDTH or "(" not in expr or not expr.endswith(")"):
        return line
    head, args = expr.split("(", 1)
    return f"{indent}{target} = {head}(\n{indent}    {args[:-1]}\n{indent})"


def _operand(expr: str) -> str:
    """`expr` as the right operand of `*`: parenthesised when it is a sum or difference."""
    node = ast.parse(expr, mode="eval").body
    return f"({expr})" if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp)) else expr


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _refuse(spec: Spec, path: str, why: str) -> UserError:
    return spec.locate(UserError(
        f"eject --with-training cannot write {why}; it writes the terms "
        f"{', '.join(SUPPORTED)}, and eject without --with-training writes the networks "
        "alone", path))


class _Loop:
    """Writes the training section of an ejected file."""

    def __init__(self, spec: Spec, taken: set[str]):
        self.spec = spec
        self.names = _Names(taken)
        self.used: dict[str, str] = {}  # copied definitions: name -> source
        self.inputs: list[str] = []  # the data and latent tensors the loop reads
        self.pools: dict[str, int] = {}  # "objective/critic": history size (CycleGAN's pool)
        self.k_init: dict[str, float] = {}  # "objective/term": BEGAN's first k

    def use(self, fn: Callable, name: str | None = None) -> str:
        name = name or fn.__name__
        if name not in self.used:
            self.used[name] = _source(fn, name)
        return name

    def check(self) -> None:
        spec = self.spec
        gan = GAN_LOSSES.get(spec.gan_loss)
        for plan in spec.analysis.networks.values():
            for layer in plan.layers:
                if layer.kind == "ada":
                    raise _refuse(spec, format_path(layer.path), "the ada layer's adjustment "
                                  "of p (ganbuilder's trainer makes it)")
        for objective in spec.objective_order:
            for index, term in enumerate(spec.analysis.objective_terms(objective)):
                path = format_path(("objectives", objective, "loss", index))
                kind, p = term.definition.name, term.params
                if kind not in SUPPORTED:
                    raise _refuse(spec, path, f"the {kind} term")
                if kind == "adversarial" and "<lambda>" in (gan.d_loss.__name__,
                                                            gan.g_loss.__name__):
                    raise _refuse(spec, "gan_loss", f"gan_loss {spec.gan_loss}, whose losses "
                                  "are lambdas")
                if kind == "adversarial" and p["relativistic"] != "none" and (
                        gan.relativistic is None):
                    raise _refuse(spec, path, f"a relativistic {spec.gan_loss} loss")

    # -- one objective's step ------------------------------------------------------------------
    def term(self, flow: _Flow, term, updates: frozenset[str], indent: str) -> str:
        """The expression of one term's value, after the statements its tensors need, fetched
        in the order the term's code fetches them."""
        kind, p = term.definition.name, term.params
        if kind == "adversarial":
            return self.adversarial(flow, term.objective, p, updates, indent)
        if kind in loss_terms.DISTANCES:
            pred, target = flow.get(p["pred"], updates), flow.get(p["target"], updates)
            return f"F.{loss_terms.DISTANCES[kind][0]}({pred}, {target})"
        if kind == "classification":
            inputs = ", ".join(flow.get(n, updates) for n in _as_list(p["input"]))
            labels = flow.get(p["labels"], updates)  # integer labels: data or a latent
            return f"F.cross_entropy(nets[{p['classifier']!r}]({inputs}).flatten(1), {labels})"
        if kind == "mutual_info":
            fakes = ", ".join(flow.get(n, updates) for n in _as_list(p["fake"]))
            out = self.names(f"q:{term.objective}:{p['q']}", basis=f"{p['q']}_out")
            flow.lines.append(_assign(indent, out, f"nets[{p['q']!r}]({fakes}).flatten(1)"))
            codes = ", ".join(f"{flow.get(n, updates)}.flatten(1)"
                              for n in _as_list(p.get("continuous")))
            code = flow.get(p["categorical"], updates) if p.get("categorical") else "None"
            weight = "" if p["continuous_weight"] == 1.0 else f", {p['continuous_weight']!r}"
            errors = f"{self.use(loss_terms.code_errors)}({out}, [{codes}])"
            return f"{self.use(loss_terms.info_loss)}({out}, {code}, {errors}{weight})"
        if kind == "began":
            return self.began(flow, term, updates, indent)
        if kind == "feature_matching":
            return self.feature_matching(flow, p, updates, indent)
        if kind == "orthogonal_reg":
            self.use(loss_terms._raw_weights)
            return f"{self.use(loss_terms.orthogonal_penalty)}(nets[{p['network']!r}])"
        critic = f"nets[{p['critic']!r}]"
        real = flow.get(p["real"], updates)
        self.use(loss_terms._input_gradient)
        if kind == "r1_penalty":
            return f"{self.use(loss_terms.r1)}({critic}, {real})"
        flow.lines.append(f"{indent}alpha = torch.rand(len({real}), "
                          "generator=self.uniform_generator).to(self.device)")
        fake = flow.get(p["fake"], updates)
        target = "" if p["target"] == 1.0 else f", {p['target']!r}"
        penalty = self.use(loss_terms.interpolate_penalty)
        return f"{penalty}({critic}, {real}, {fake}, alpha{target})"

    def adversarial(self, flow: _Flow, objective: str, p: dict, updates: frozenset[str],
                    indent: str) -> str:
        """The adversarial term, in the order its code fetches tensors and calls the critic."""
        gan = GAN_LOSSES.get(self.spec.gan_loss)
        form, m = p["relativistic"], p["pack"]
        critic = f"nets[{p['critic']!r}]"

        def judge(tensors: list[str]) -> str:
            if m == 1:
                return f"{critic}({', '.join(tensors)})"
            return f"{critic}(*{self.use(critic_inputs.pack)}([{', '.join(tensors)}], {m}))"

        fakes = [flow.get(n, updates) for n in _as_list(p["fake"])]
        if form != "none":
            relativistic = (f"{self.use(critic_inputs.relativistic_loss)}"
                            f"({self.use(gan.relativistic, 'f1')}")
        if p["critic"] not in updates:
            if form == "none":
                return f"{self.use(gan.g_loss, 'g_loss')}({judge(fakes)})"
            # The generator's side scores its fakes before it reads the real samples.
            score = self.names(f"score:{objective}:{p['critic']}", basis="fake_score")
            flow.lines.append(_assign(indent, score, judge(fakes)))
            reals = [flow.get(n, updates) for n in _as_list(p["real"])]
            return f"{relativistic}, {score}, {judge(reals)}, {form!r})"
        if p["history"]:
            self.use(HistoryPool)
            key = f"{objective}/{p['critic']}"
            self.pools[key] = p["history"]
            pooled = self.names(f"pool:{key}", basis=f"pooled_{p['critic']}")
            flow.lines.append(_assign(indent, pooled, f"self.pools[{key!r}].query({fakes[0]})"))
            fakes[0] = pooled
        reals = [flow.get(n, updates) for n in _as_list(p["real"])]
        if form != "none":
            return f"{relativistic}, {judge(reals)}, {judge(fakes)}, {form!r})"
        return f"{self.use(gan.d_loss, 'd_loss')}({judge(reals)}, {judge(fakes)})"

    def feature_matching(self, flow: _Flow, p: dict, updates: frozenset[str],
                         indent: str) -> str:
        """Feature matching on the critic's layer `p['layer']`, written as the module at its
        place in the ejected class: the class's own item, or its `layers` list's."""
        plan = self.spec.analysis.networks[p["critic"]]
        index = plan.layer_ids[p["layer"]]
        critic = f"nets[{p['critic']!r}]"
        layer = f"{critic}[{index}]" if plan.is_chain else f"{critic}.layers[{index}]"
        hooked = self.use(feature_matching.hooked_output)
        reals = ", ".join(flow.get(n, updates) for n in _as_list(p["real"]))
        features = self.names(f"{p['critic']}/{p['layer']}/real", basis="real_features")
        flow.lines.append(_assign(indent, features, f"{hooked}({critic}, {layer}, [{reals}])"))
        fakes = ", ".join(flow.get(n, updates) for n in _as_list(p["fake"]))
        return (f"{self.use(feature_matching.feature_distance)}({features}, "
                f"{hooked}({critic}, {layer}, [{fakes}]))")

    def began(self, flow: _Flow, term, updates: frozenset[str], indent: str) -> str:
        """BEGAN's term; on the autoencoder's side k, kept in `self.k`, moves after the loss
        has read it, as the term's state moves in the trainer."""
        p = term.params
        error = self.use(loss_terms.reconstruction_error)
        autoencoder = f"nets[{p['autoencoder']!r}]"
        fake = flow.get(p["fake"], updates)
        if p["autoencoder"] not in updates:
            return f"{error}({autoencoder}, {fake})"
        key = f"{term.objective}/{term.label}"
        self.k_init[key] = float(p["k_init"])
        fake_error, real_error, k = (self.names(f"{key}/{n}", basis=n) for n in
                                     ("fake_error", "real_error", "k"))
        flow.lines.append(_assign(indent, fake_error, f"{error}({autoencoder}, {fake})"))
        real = flow.get(p["real"], updates)
        update = (f"{self.use(loss_terms.began_k)}({k}, {real_error}, {fake_error}, "
                  f"{p['gamma']!r}, {p['lambda_k']!r})")
        flow.lines += [f"{indent}{real_error} = {error}({autoencoder}, {real})",
                       f"{indent}{k} = self.k[{key!r}]",
                       f"{indent}with torch.no_grad():",
                       f"{indent}    self.k[{key!r}] = {update}"]
        return f"{real_error} - {k} * {fake_error}"

    def objective(self, flow: _Flow, name: str, indent: str) -> None:
        cfg = self.spec.tree["objectives"][name]
        updates = frozenset(cfg["updates"])
        lines = flow.lines
        terms = self.spec.analysis.objective_terms(name)
        values: list[str] = []
        for term in terms:
            before = len(lines)
            value = self.term(flow, term, updates, indent)
            if values and len(lines) > before:
                # This term computed tensors first: the earlier terms' critic calls come
                # before that in the trainer, so their values are taken here, in order.
                for k, earlier in enumerate(values):
                    if not earlier.isidentifier():
                        var = self.names(f"term:{name}:{k}", basis=terms[k].label)
                        lines.insert(before, _assign(indent, var, earlier))
                        before += 1
                        values[k] = var
            values.append(value)
        values = [v if t.weight == 1 else f"{t.weight!r} * {_operand(v)}"
                  for v, t in zip(values, terms, strict=True)]
        loss = self.names(f"loss:{name}", basis=f"loss_{name}")
        line = f"{indent}{loss} = {' + '.join(values)}"
        lines.append(line if len(line) <= WIDTH else
                     f"{indent}{loss} = (\n{indent}    " + f"\n{indent}    + ".join(values)
                     + f"\n{indent})")
        lines += [f"{indent}optimizers[{name!r}].zero_grad(set_to_none=True)",
                  f"{indent}{loss}.backward(inputs=params[{name!r}])  # the trained networks only",
                  f"{indent}optimizers[{name!r}].step()"]
        if cfg.get("clip_weights") is not None:
            c = cfg["clip_weights"]
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
            repeat = self.spec.tree["objectives"][name].get("repeat", 1)
            updates = ", ".join(self.spec.tree["objectives"][name]["updates"])
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
        return _mapping("return ", losses, " " * 8)

    # -- the set-up ----------------------------------------------------------------------------
    def optimizers(self) -> list[str]:
        out = []
        for name in self.spec.objective_order:
            cfg = self.spec.tree["objectives"][name]
            kind, opts = one_key(cfg.get("optimizer") or self.spec.training.get("optimizer"),
                                 "adam")
            entry = OPTIMIZERS.get(kind)
            builder = self.use(entry.build)
            line = (f"            {name!r}: {builder}(self.params[{name!r}], "
                    f"{fill_defaults(entry.params, opts)!r}),")
            out.append(line if len(line) <= WIDTH else
                       line.replace(", {", ",\n                {", 1))
        return out

    def schedule(self) -> tuple[str, dict] | None:
        kind, opts = one_key(self.spec.training.get("schedule"), "constant")
        if kind == "constant":
            return None
        entry = SCHEDULES.get(kind)
        return self.use(entry.factor, f"{kind}_lr"), fill_defaults(entry.params, opts)


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
    ema = loop.spec.training.get("ema")
    if not ema:
        return _Part()
    fold = loop.use(fold_weights)
    decay, start = float(ema.get("decay", 0.999)), int(ema.get("start", 0))
    copies = [f"{n!r}: {{k: v.detach().clone() for k, v in nets[{n!r}].state_dict().items()}}"
              for n in ema["networks"]]
    return _Part(
        init=[_mapping("self.average = ", copies, "        ")],
        after=["        for name, shadow in self.average.items():",
               f"            {fold}(shadow, nets[name], self.step, {decay!r}, {start!r})"],
        note=f"`average` holds the average of {', '.join(ema['networks'])}'s weights "
             "(training.ema), to sample with: net.load_state_dict(training.average[name]); "
             "its batch norm statistics are the live network's, which ganbuilder measures "
             "anew for the average before it samples.")


def _precision(loop: _Loop) -> _Part:
    precision = loop.spec.training.get("precision", "fp32")
    if precision == "fp32":
        return _Part()
    return _Part(note=f"training.precision {precision} is not written out: the loop runs in "
                      "float32.")


def _state(loop: _Loop) -> _Part:
    """The generators and the terms' state: latents, penalties' interpolation weights, image
    pools, BEGAN's k, each seeded as the trainer seeds it."""
    init = ["        self.latent_generator = torch.Generator().manual_seed(seed + 1)",
            "        self.uniform_generator = torch.Generator().manual_seed(seed + 5)"]
    if loop.pools:
        init += ["        self.pool_generator = torch.Generator().manual_seed(seed + 3)",
                 _mapping("self.pools = ", [f"{k!r}: HistoryPool({n}, self.pool_generator)"
                                            for k, n in loop.pools.items()], "        ")]
    if loop.k_init:
        init.append(_mapping("self.k = ", [f"{k!r}: torch.tensor({v!r}, device=self.device)"
                                           for k, v in loop.k_init.items()], "        "))
    return _Part(init=init)


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
    loop.check()
    body = loop.step_body()
    optimizers = loop.optimizers()
    parts = [_state(loop), _schedule(loop), _average(loop), _precision(loop)]
    latent = spec.tree.get("latent") or {}
    draw = "batch"
    if latent:
        draw = (f"{{**batch, **{loop.use(sample_latent)}(LATENT, BATCH_SIZE, "
                "self.latent_generator, self.device)}")
    batch = with_defaults(spec.tree["data"])["batch_size"]
    steps, seed = spec.training["steps"], spec.training["seed"]
    params = [f"{n!r}: [p for net in {sorted(spec.tree['objectives'][n]['updates'])!r} "
              "for p in nets[net].parameters()]" for n in spec.objective_order]
    text = "\n".join([
        _mapping("LATENT = ", [f"{k!r}: {v!r}" for k, v in latent.items()], "") if latent else "",
        f"BATCH_SIZE = {batch}",
        "",
        "",
        "class Training:",
        _docstring(loop, batch, [part.note for part in parts if part.note]),
        "",
        f"    def __init__(self, nets, batches, device='cpu', seed={seed}, steps={steps}):",
        "        self.nets, self.batches, self.device = nets, batches, torch.device(device)",
        "        self.step = 0",
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
    return list(loop.used.values()), text
