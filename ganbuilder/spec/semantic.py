"""Checks the schema cannot express: references between sections, cycles and shapes."""

from __future__ import annotations

import itertools
from pathlib import Path

from ganbuilder.errors import DataError, Problem
from ganbuilder.layers import LAYERS, ShapeError
from ganbuilder.layers.registry import Shape, format_shape, forward_functions
from ganbuilder.registry import did_you_mean
from ganbuilder.spec.analysis import Analysis
from ganbuilder.spec.budget import check_outputs
from ganbuilder.spec.expr import (
    Call,
    ExprError,
    Forward,
    Tap,
    parse_forward,
)
from ganbuilder.spec.paths import Locations, format_path
from ganbuilder.spec.pretrained import pretrained_problems
from ganbuilder.spec.shapes import plan_network
from ganbuilder.spec.terms import Term, spec_terms


class _Checker:
    def __init__(self, tree: dict, locations: Locations, base_dir: Path):
        self.tree, self.locations, self.base_dir = tree, locations, base_dir
        self.a = Analysis()
        self._built: dict[str, tuple[list, tuple]] = {}  # network -> (its first call's args, where)

    def problem(self, path: tuple, message: str) -> None:
        self.a.problems.append(Problem(format_path(path), message, self.locations.find(path),
                                       self.locations.written(path)))

    def run(self) -> Analysis:
        self.inputs()
        self.forward()
        self.losses()
        self.training()
        for path, message in pretrained_problems(self.tree, self.a.networks):
            self.problem(path, message)  # weights layouts and frozen networks or layers
        for name in self.tree["networks"]:
            # Only worth saying when nothing else explains it (a broken forward would).
            if name not in self.a.networks and not self.a.problems:
                self.problem(("networks", name), f"network '{name}' is never called in forward "
                             "or by a loss term, so its input shape is unknown")
        return self.a

    def inputs(self) -> None:
        from ganbuilder.data import tensor_shapes

        try:
            shapes = tensor_shapes(self.tree["data"], self.base_dir)
        except DataError as exc:
            for p in exc.problems:
                self.problem(tuple(p.path.split(".")) if p.path else ("data",), p.message)
            shapes = {}
        for name, shape in shapes.items():
            self.define(name, tuple(shape), "data", ("data",))
        for name, cfg in (self.tree.get("latent") or {}).items():
            path = ("latent", name)
            dist = cfg.get("dist", "normal")
            if dist == "categorical":
                if "classes" not in cfg:
                    self.problem(path, "a categorical latent needs 'classes'")
                self.define(name, (), "latent", path)
            elif "shape" not in cfg:
                self.problem(path, f"a {dist} latent needs 'shape'")
            else:
                self.define(name, tuple(cfg["shape"]), "latent", path)

    def define(self, name: str, shape: Shape | None, kind: str, path: tuple) -> None:
        if name in self.a.sources:
            self.problem(path, f"'{name}' is already defined by {self.a.sources[name]}")
            return
        if name in self.tree["networks"] or name in forward_functions():
            self.problem(path, f"'{name}' is a network name; tensors need their own names")
            return
        self.a.sources[name] = kind
        if shape is not None:
            self.a.tensor_shapes[name] = shape
        self.a.producers.setdefault(name, set())

    def forward(self) -> None:
        forward = self.tree.get("forward") or {}
        for name, text in forward.items():
            try:
                self.a.forward[name] = parse_forward(text)
            except ExprError as exc:
                self.problem(("forward", name), str(exc))
                continue
            self.define(name, None, "forward", ("forward", name))
        deps = {n: ({e} if isinstance(e, str) else e.names()) for n, e in self.a.forward.items()}
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*trail[trail.index(name):], name])
                self.problem(("forward", name), f"cycle in forward: {cycle}")
                return
            state[name] = 1
            for dep in sorted(deps.get(name, ())):
                if dep in deps:
                    visit(dep, [*trail, name])
            state[name] = 2
            self.a.order.append(name)

        for name in self.a.forward:
            visit(name, [])
        for name in self.a.order:
            path = ("forward", name)
            expr = self.a.forward[name]
            shape = self.evaluate(expr, path, self.a.producers.setdefault(name, set()))
            if shape is not None:
                self.a.tensor_shapes[name] = shape

    def evaluate(self, expr: Forward | float, path: tuple, used: set[str]) -> Shape | None:
        """The shape of an expression; records which networks it runs through in `used`."""
        if isinstance(expr, float):
            self.problem(path, f"the number {expr:g} stands where a tensor is expected (numbers "
                         "go only to scale and affine's offset)")
            return None
        if isinstance(expr, Tap):
            return self.tap(expr, path, used)
        if isinstance(expr, str):
            if expr not in self.a.sources:
                known = set(self.a.sources)
                self.problem(path, f"unknown tensor '{expr}'{did_you_mean(expr, known)}")
                return None
            used |= self.a.producers.get(expr, set())
            return self.a.tensor_shapes.get(expr)
        if expr.fn in forward_functions():
            return self.function(expr, path, used)
        args = [self.evaluate(arg, path, used) for arg in expr.args]
        if any(a is None for a in args):
            return None
        if expr.fn not in self.tree["networks"]:
            choices = set(self.tree["networks"]) | set(forward_functions())
            self.problem(path, f"unknown network '{expr.fn}'{did_you_mean(expr.fn, choices)}")
            return None
        used.add(expr.fn)
        return self.call(expr.fn, args, path, list(expr.args))

    def function(self, expr: Call, path: tuple, used: set[str]) -> Shape | None:
        """A layer called as a function (concat, add, mul, scale, affine): its entry says
        which arguments it takes, and its shape rule gives the result."""
        entry = LAYERS.get(expr.fn)
        use = entry.forward
        tensors = [a for i, a in enumerate(expr.args) if i not in use.numbers]
        consts = [a for i, a in enumerate(expr.args) if i in use.numbers]
        if len(expr.args) < use.fewest or (use.most and len(expr.args) > use.most):
            self.problem(path, f"{expr.fn} takes {use.usage}, got {len(expr.args)} "
                         "argument(s)")
            return None
        if any(not isinstance(c, float) for c in consts):
            self.problem(path, f"{expr.fn}: argument {use.numbers[0] + 1} must be a number")
            return None
        shapes = [self.evaluate(a, path, used) for a in tensors]
        if any(s is None for s in shapes):
            return None
        params = entry.normalize(consts[0] if consts and entry.primary else {})
        try:
            return tuple(entry.shape(params, shapes))
        except ShapeError as exc:
            self.problem(path, str(exc))
            return None

    def tap(self, tap: Tap, path: tuple, used: set[str]) -> Shape | None:
        """`fake.w`: the shape of layer `w` in the network call that computed `fake`."""
        call = self.a.forward.get(tap.tensor)
        if not isinstance(call, Call) or call.fn not in self.a.networks:
            self.problem(path, f"'{tap}' taps a layer of the network call that computes "
                         f"'{tap.tensor}'; '{tap.tensor}' must be a forward tensor computed as "
                         "network(...)")
            return None
        plan = self.a.networks[call.fn]
        ids = plan.layer_ids
        if tap.layer not in ids:
            self.problem(path, f"'{tap}': {call.fn} has no layer with id '{tap.layer}'"
                         f"{did_you_mean(tap.layer, set(ids))}")
            return None
        used |= self.a.producers.get(tap.tensor, set())
        self.a.taps.setdefault(tap.tensor, set()).add(tap.layer)
        return plan.layers[ids[tap.layer]].out_shape

    def _origin(self, arg: Forward) -> tuple[str, str | None]:
        """An argument in words (`real from the data`, `fake, G's output`) and the network
        whose output it is (None for data, latents and merges)."""
        if isinstance(arg, Tap):
            return f"{arg}, a layer's output", None
        if not isinstance(arg, str):
            return (f"{arg.fn}'s output", arg.fn) if arg.fn in self.tree["networks"] \
                else (arg.fn, None)
        kind = self.a.sources.get(arg)
        if kind in ("data", "latent"):
            return f"{arg} from the {kind}", None
        expr = self.a.forward.get(arg)
        if isinstance(expr, Call) and expr.fn in self.tree["networks"]:
            return f"{arg}, {expr.fn}'s output", expr.fn
        return arg, None

    def call(self, net: str, shapes: list[Shape], path: tuple,
             args: list[Forward] | None = None) -> Shape | None:
        plan = self.a.networks.get(net)
        origins = [self._origin(a) for a in args] if args else []
        if plan is None:
            plan = plan_network(net, self.tree["networks"][net], shapes)
            self.a.networks[net] = plan
            self._built[net] = (origins, path)
            if plan.error:
                self.problem(*plan.error)
        elif plan.input_shapes != shapes:
            self._mismatch(net, plan, shapes, path, origins)
            return None
        return plan.output_shape

    def _mismatch(self, net: str, plan, shapes: list[Shape], path: tuple,
                  origins: list[tuple[str, str | None]]) -> None:
        """A network called with other shapes than it was built for: name both ends (what
        each call passes and where it comes from) and, when one end is data and the other a
        network's output, mark that network's last layer as the one to change."""
        def words(shapes, origins) -> str:
            return ", ".join(f"{o[0]} {format_shape(s)}" if o else format_shape(s)
                             for s, o in itertools.zip_longest(shapes, origins[:len(shapes)]))

        first, first_path = self._built.get(net, ([], None))
        where = f" at {format_path(first_path)}" if first_path else ""
        self.problem(path, f"{net} is called with {words(shapes, origins)} here but was built "
                     f"for {words(plan.input_shapes, first)}{where}")
        ends = [(s, o) for s, o in zip(shapes, origins, strict=False)] + \
            [(s, o) for s, o in zip(plan.input_shapes, first, strict=False)]
        data = [(s, o) for s, o in ends if o[1] is None and " from the data" in o[0]]
        made = [(s, o) for s, o in ends if o[1] is not None]
        if data and made and data[0][0] != made[0][0]:
            (want, (said, _)), (got, (_, producer)) = data[0], made[0]
            made_by = self.a.networks.get(producer)
            layers = made_by.layers if made_by is not None else []
            # The layer that last changed the shape (a conv's `out`, not the tanh after it).
            changes = [i for i, layer in enumerate(layers)
                       if layer.out_shape != (layers[i - 1].out_shape if i else None)]
            target = ("networks", producer, "layers", changes[-1]) if changes \
                else ("networks", producer)
            self.problem(target, f"{producer}'s output is {format_shape(got)}, but {net} also "
                         f"takes {said} {format_shape(want)}: this layer of {producer} should "
                         f"give {format_shape(want)}")

    def losses(self) -> None:
        networks = self.tree["networks"]
        for oname, obj in self.tree["objectives"].items():
            for net in obj["updates"]:
                if net not in networks:
                    msg = f"unknown network '{net}'{did_you_mean(net, set(networks))}"
                    self.problem(("objectives", oname, "updates"), msg)
        self.a.terms = spec_terms(self.tree)
        for term in self.a.terms:
            self.term(term, set(self.tree["objectives"][term.objective]["updates"]))

    def term(self, term: Term, updates: set[str]) -> None:
        path, ldef, params = (*term.path, term.kind), term.definition, term.written
        shapes: dict[str, list[Shape] | None] = {}
        for key, names in term.tensors.items():
            if key not in params:
                continue
            got = [self.evaluate(n, (*path, key), set()) for n in names]
            shapes[key] = None if any(g is None for g in got) else got
        built = ldef.network_inputs(params, self.a.networks) if ldef.network_inputs else {}
        for key in ldef.networks:
            net = params[key]
            if net not in self.tree["networks"]:
                choices = set(self.tree["networks"])
                self.problem((*path, key), f"unknown network '{net}'{did_you_mean(net, choices)}")
                return
            if key in built:
                out = self.call(net, built[key], (*path, key))
                shapes[key] = None if out is None else [out]
                continue
            for tkey in ldef.inputs:
                if shapes.get(tkey):
                    given = shapes[tkey]
                    if ldef.network_shapes is not None:
                        given = ldef.network_shapes(params, given)
                    names = list(term.tensors.get(tkey, ()))
                    out = self.call(net, given, (*path, tkey),
                                    names if len(names) == len(given) else None)
                    shapes[key] = None if out is None else [out]
            if key == ldef.critic and net in updates and "real" not in params:
                self.problem(path, f"this objective updates the critic {net}, so the term needs "
                             "'real' as well as 'fake'")
        for lkey, nkey in ldef.layers.items():
            plan = self.a.networks.get(params.get(nkey))
            wanted = params.get(lkey)  # one id, or several (a list, or a mapping's keys)
            for i, layer_id in enumerate([wanted] if isinstance(wanted, str) else
                                         list(wanted or ())):
                if plan is not None and not plan.error and layer_id not in plan.layer_ids:
                    ids = ", ".join(plan.layer_ids) or "none"
                    where = ((*path, lkey, i) if isinstance(wanted, list) else
                             (*path, lkey, layer_id) if isinstance(wanted, dict) else
                             (*path, lkey))
                    self.problem(where, f"{params[nkey]} has no layer with id '{layer_id}' "
                                 f"(its ids: {ids})")
        self.heads(term, shapes)
        self.penalised(term)
        if ldef.check is not None:
            known = {k: v for k, v in shapes.items() if v is not None}
            for key, message in ldef.check(params, known, self.tree.get("latent") or {}):
                self.problem((*path, key) if key else path, message)
        if "pred" in shapes and "target" in shapes and shapes["pred"] and shapes["target"]:
            pred, target = shapes["pred"][0], shapes["target"][0]
            if pred != target:
                self.problem(path, f"{ldef.name}: pred {params['pred']} {format_shape(pred)} and "
                             f"target {params['target']} {format_shape(target)} differ in shape")

    def heads(self, term: Term, shapes: dict) -> None:
        """A term's `head` names one of its network's `outputs`; the term sees that head."""
        path, params = (*term.path, term.kind), term.written
        for hkey, nkey in term.definition.heads.items():
            plan = self.a.networks.get(params.get(nkey))
            if hkey not in params or plan is None or plan.error:
                continue
            if params[hkey] not in plan.outputs:
                have = (f"its outputs: {', '.join(plan.outputs)}" if plan.outputs else
                        "it declares no `outputs`; list its heads there, the one a call "
                        "returns first")
                self.problem((*path, hkey), f"{params[nkey]} has no head '{params[hkey]}' "
                             f"({have})")
                shapes.pop(nkey, None)
                continue
            shapes[nkey] = [plan.layers[plan.layer_ids[params[hkey]]].out_shape]

    def penalised(self, term: Term) -> None:
        """A penalty differentiates the critic with respect to what it reads: an image, not a
        network's features (a body before a head would put the penalty on the body's output)."""
        for key in term.definition.penalised:
            for name in term.tensors.get(key, ()):
                made_by = sorted(self.a.producers.get(name, ()))
                if made_by and self.a.sources.get(name) == "forward" and not self._image(name):
                    critic = term.networks.get(term.definition.networks[0], "the critic")
                    self.problem((*term.path, term.kind, key), f"{term.kind} differentiates "
                                 f"{critic} with respect to its image input, but '{name}' is "
                                 f"features computed by {', '.join(made_by)}: make the trunk "
                                 f"and its heads one network (networks.{critic}.outputs lists "
                                 "the heads; a call returns the first) and give the penalty "
                                 "the images")

    def _image(self, name: str) -> bool:
        """Whether a forward tensor has the shape of a data sample (a generator's image)."""
        shape = self.a.tensor_shapes.get(name)
        return shape is None or shape in {s for n, s in self.a.tensor_shapes.items()
                                          if self.a.sources.get(n) == "data" and s}

    def training(self) -> None:
        objectives = self.tree["objectives"]
        for i, name in enumerate(self.tree["training"].get("order") or []):
            if name not in objectives:
                msg = f"unknown objective '{name}'{did_you_mean(name, set(objectives))}"
                self.problem(("training", "order", i), msg)
        networks = self.tree["networks"]
        for i, name in enumerate((self.tree["training"].get("ema") or {}).get("networks", [])):
            if name not in networks:
                msg = f"unknown network '{name}'{did_you_mean(name, set(networks))}"
                self.problem(("training", "ema", "networks", i), msg)
        sampling = self.tree.get("sampling") or {}
        for i, group in enumerate(sampling.get("tensors") or []):
            names = [group] if isinstance(group, str) else group
            shapes = {self.evaluate(n, ("sampling", "tensors", i), set()) for n in names}
            if len(shapes) > 1 and None not in shapes:
                self.problem(("sampling", "tensors", i), "tensors side by side need one shape, "
                             f"got {', '.join(format_shape(s) for s in shapes)}")
        rows_by = sampling.get("rows_by")
        latent = self.tree.get("latent") or {}
        if rows_by and latent.get(rows_by, {}).get("dist") != "categorical":
            self.problem(("sampling", "rows_by"), f"'{rows_by}' is not a categorical latent")


def analyse(tree: dict, locations: Locations, base_dir: Path) -> Analysis:
    """Run every semantic check on a schema-valid tree; problems land in `.problems`."""
    return check_outputs(_Checker(tree, locations, base_dir).run(), locations)
