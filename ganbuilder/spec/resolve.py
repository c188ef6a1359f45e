"""Turn spec text into one resolved tree: `extends`, `--set` overrides, `${params}`, blocks.

Every step keeps locations, so later errors still point at the text the user wrote.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ganbuilder.errors import Location, Problem, SpecError, UserError
from ganbuilder.files import is_pipe, read_bounded, real_path
from ganbuilder.registry import did_you_mean
from ganbuilder.spec.expr import ExprError, FollowOnError, eval_arith
from ganbuilder.spec.overlay import merge, names_one_kind
from ganbuilder.spec.paths import format_path, parse_path
from ganbuilder.spec.yaml_loader import LDict, LList, load_yaml

_REF = re.compile(r"\$\{([^}]*)\}")
SET_FILE = "<--set>"


def read_tree(file: Path, chain: tuple[Path, ...] = ()) -> LDict:
    """Load a spec file and merge its `extends:` base (recursively) under it."""
    given = Path(file)
    # A pipe (`validate <(cat spec.yaml)`) is read as given: resolved, its name is no file.
    piped = not chain and is_pipe(given)
    file = given if piped else real_path(given)
    if file in chain:
        cycle = " -> ".join(p.name for p in (*chain, file))
        raise SpecError([Problem("extends", f"extends cycle: {cycle}", Location(str(file), 1, 1))])
    try:
        text = read_bounded(file, what="spec file", pipes=not chain).decode("utf-8")
    except UserError as exc:
        raise SpecError(exc.problems) from None
    except UnicodeDecodeError as exc:
        raise SpecError([Problem("", f"cannot read spec file {file}: not UTF-8 text ({exc.reason} "
                                 f"at byte {exc.start})")]) from None
    return tree_from_text(text, str(file), Path.cwd() if piped else file.parent,
                          (*chain, file))


def tree_from_text(
    text: str, file: str, base_dir: Path, chain: tuple[Path, ...] = ()
) -> LDict:
    """Parse spec text; `extends` paths are relative to `base_dir`."""
    tree = load_yaml(text, file)
    if not isinstance(tree, LDict):
        raise SpecError([Problem("", "a spec must be a YAML mapping", Location(file, 1, 1))])
    base_name = tree.pop("extends", None)
    if base_name is None:
        return tree
    names = base_name if isinstance(base_name, list) else [base_name]
    where = tree.val_locs["extends"]
    if not names or not all(isinstance(n, str) for n in names):
        raise SpecError([Problem("extends", "must be a relative file name, or a list of them "
                                 "(spec parts such as parts/vgg19.yaml, then a base)", where)])
    # Several bases merge in order, each over the ones before; this file over them all.
    merged = None
    for name in names:
        base = _base_tree(base_dir / name, chain, where)
        merged = base if merged is None else merge(merged, base)
    return merge(merged, tree)


def _base_tree(base_file: Path, chain: tuple[Path, ...], where: Location) -> LDict:
    try:
        found = base_file.is_file()
    except (OSError, ValueError):  # a name too long, or holding a NUL character
        found = False
    if not found:
        raise SpecError([Problem("extends", f"base spec not found: {base_file}", where)])
    return read_tree(base_file, chain)


def apply_overrides(tree: LDict, overrides: list[str]) -> None:
    """Apply `path=value` assignments; values are typed like YAML (`1e-4` is a float)."""
    problems = []
    for item in overrides:
        path_text, sep, value_text = item.partition("=")
        try:
            if not sep:
                raise ValueError(f"--set expects PATH=VALUE, got '{item}'")
            path = parse_path(path_text.strip())
            _check_param(tree, path)
            value = load_yaml(value_text, SET_FILE) if value_text.strip() else ""
            _assign(tree, path, value, Location(SET_FILE, 1, 1))
        except (ValueError, SpecError) as exc:
            problems.append(Problem(path_text.strip(), str(exc), Location(SET_FILE, 1, 1)))
    if problems:
        raise SpecError(problems)


def _check_param(tree: LDict, path: tuple) -> None:
    """`--set params.x=...` may only change a declared param: a new one would be read by
    nothing, so a misspelled name would be silently ignored."""
    params = tree.get("params")
    if len(path) == 2 and path[0] == "params" and isinstance(params, dict) \
            and path[1] not in params:
        raise ValueError(f"unknown param '{path[1]}'{did_you_mean(str(path[1]), set(params))}; "
                         f"the spec declares: {', '.join(params) or 'none'}")


def _assign(tree: LDict, path: tuple, value: Any, loc: Location) -> None:
    node: Any = tree
    for depth, part in enumerate(path[:-1]):
        here = format_path(path[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ValueError(f"no list item at '{here}'")
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ValueError(f"'{format_path(path[:depth])}' is not a mapping")
            if part not in node:
                node[part] = LDict()
                node.key_locs[part] = node.val_locs[part] = loc
            node = node[part]
    last = path[-1]
    if value is None and isinstance(node, LDict) and last in node \
            and not names_one_kind(path[:-1]):
        del node[last], node.key_locs[last], node.val_locs[last]  # as a null in a file extending
    elif isinstance(last, int):
        if not isinstance(node, LList) or last >= len(node):
            raise ValueError(f"no list item at '{format_path(path)}'")
        node[last] = value
        node.item_locs[last] = loc
    else:
        if not isinstance(node, LDict):
            raise ValueError(f"'{format_path(path[:-1])}' is not a mapping")
        node[last] = value
        node.key_locs[last] = node.val_locs[last] = loc


class _Substituter:
    """Replaces `${expr}` in strings; a string that is exactly one `${expr}` takes its type."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems

    def value(self, text: str, env: dict, path: tuple, loc: Location | None) -> Any:
        refs = list(_REF.finditer(text))
        if not refs:
            return text
        try:
            if len(refs) == 1 and refs[0].group(0) == text.strip():
                return eval_arith(refs[0].group(1), env)
            return _REF.sub(lambda m: str(eval_arith(m.group(1), env)), text)
        except FollowOnError:
            return text
        except ExprError as exc:
            self.problems.append(Problem(format_path(path), str(exc), loc))
            return text

    def walk(self, node: Any, env: dict, path: tuple, skip: tuple = (), force: bool = False
             ) -> None:
        if isinstance(node, LDict):
            for key in list(node):
                if (*path, key) in skip or (not force and _per_repetition(node, key)):
                    continue
                node[key] = self._item(node[key], env, (*path, key), node.val_locs.get(key), skip)
        elif isinstance(node, LList):
            for i, item in enumerate(node):
                node[i] = self._item(item, env, (*path, i), node.item_locs[i], skip)

    def _item(self, item: Any, env: dict, path: tuple, loc: Location | None, skip: tuple) -> Any:
        if isinstance(item, str):
            return self.value(item, env, path, loc)
        self.walk(item, env, path, skip)
        return item


def _per_repetition(node: LDict, key: str) -> bool:
    """Block arguments under `repeat` are evaluated once per repetition, with `i` bound."""
    return "block" in node and "times" in node and key not in ("block", "times")


def substitute_params(tree: LDict, problems: list[Problem]) -> dict:
    """Resolve `params` in order (later ones may use earlier ones), then the rest of the tree."""
    sub = _Substituter(problems)
    params = tree.get("params") or LDict()
    env: dict = {}
    if isinstance(params, LDict):
        for name in list(params):
            value = params[name]
            if isinstance(value, str):
                value = sub.value(value, env, ("params", name), params.val_locs.get(name))
                params[name] = value
            env[name] = value
    sub.walk(tree, env, (), skip=(("params",), ("blocks",)))
    return env


# Layers a spec may expand to, nested repeats multiplied out: shipped specs have at most a few
# hundred, and `repeat: {times: 1000000000}` must fail at once instead of expanding for hours.
MAX_LAYERS = 10_000
_BLOCK_KEYS = ("args", "layers")


def expand_blocks(tree: LDict, env: dict, problems: list[Problem]) -> None:
    """Replace every `block:` use (and `repeat: {block: ...}`) with the block's layers."""
    blocks = tree.pop("blocks", None) or LDict()
    if not isinstance(blocks, LDict):
        problems.append(Problem("blocks", "must be a mapping of block names to "
                                "{args, layers}", tree.val_locs.get("blocks")))
        blocks = LDict()
    networks = tree.get("networks")
    if not isinstance(networks, dict):
        return
    expander = _BlockExpander(_checked_blocks(blocks, problems), env, problems)
    for name, net in networks.items():
        if isinstance(net, LDict) and isinstance(net.get("layers"), LList):
            net["layers"] = expander.layers(net["layers"], ("networks", name, "layers"), ())


def _checked_blocks(blocks: LDict, problems: list[Problem]
                    ) -> dict[str, tuple[dict, LList] | None]:
    """Each block as (argument defaults, None where required; layers); None if malformed."""
    out: dict[str, tuple[dict, LList] | None] = dict.fromkeys(blocks)
    for name, block in blocks.items():
        where = blocks.val_locs.get(name)
        if not isinstance(block, LDict) or not isinstance(block.get("layers"), LList):
            problems.append(Problem(f"blocks.{name}", "a block is a mapping with a 'layers' "
                                    "list (and optionally 'args')", where))
            continue
        for key in sorted(set(block) - set(_BLOCK_KEYS)):
            msg = f"unknown key '{key}'{did_you_mean(key, set(_BLOCK_KEYS))}; expected one of: "
            problems.append(Problem(f"blocks.{name}.{key}", msg + ", ".join(_BLOCK_KEYS),
                                    block.key_locs.get(key)))
        declared = block.get("args")
        if declared is None:
            defaults: dict = {}
        elif isinstance(declared, LDict):
            defaults = dict(declared)
        elif isinstance(declared, LList) and all(isinstance(a, str) for a in declared):
            defaults = dict.fromkeys(declared)
        else:
            problems.append(Problem(f"blocks.{name}.args", "must be a list of argument names "
                                    "or a mapping of names to defaults, got "
                                    f"{_describe(declared)}", block.val_locs.get("args")))
            continue
        out[name] = (defaults, block["layers"])
    return out


def _describe(value: Any) -> str:
    if isinstance(value, LList):  # one that holds something other than a name
        wrong = next(v for v in value if not isinstance(v, str))
        return "a list holding " + ("a list" if isinstance(wrong, LList) else _describe(wrong))
    if isinstance(value, LDict):
        return "a mapping"
    return "nothing (null)" if value is None else f"{type(value).__name__} {value!r}"[:60]


def _clone(node: Any) -> Any:
    """A copy of a loaded tree, locations shared (they are immutable): copy.deepcopy took
    seconds on a spec near MAX_LAYERS."""
    if isinstance(node, LDict):
        out = LDict({k: _clone(v) for k, v in node.items()})
        out.loc, out.key_locs, out.val_locs = node.loc, dict(node.key_locs), dict(node.val_locs)
        return out
    if isinstance(node, LList):
        out = LList(_clone(v) for v in node)
        out.loc, out.item_locs = node.loc, list(node.item_locs)
        return out
    return node


def _times(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _expanded() -> LList:
    """A layer list made by block expansion. Per item it keeps where the user wrote it
    (the network's item as written, and a note naming the block layer it came from), so
    messages name that instead of the index after expansion."""
    out = LList()
    out.item_origins = []
    return out


class _BlockExpander:
    """Expands block uses in place; `mult` is how many times the layers at hand repeat, so the
    layer count covers `repeat: {times, layers}` lists that stay unexpanded."""

    def __init__(self, blocks: dict[str, tuple[dict, LList] | None], env: dict,
                 problems: list[Problem]):
        self.blocks, self.env, self.problems = blocks, env, problems
        self.sub = _Substituter(problems)
        self.count = 0
        self.over = False
        self.at: tuple[tuple, Location | None] = ((), None)  # the network's item being expanded

    def grow(self, n: int, path: tuple, loc: Location | None) -> bool:
        """Count `n` more layers; False (reported once) when the spec goes over MAX_LAYERS."""
        self.count += n
        if self.count > MAX_LAYERS and not self.over:
            self.over = True
            self.problems.append(Problem(format_path(path), f"the spec expands to more than "
                                         f"{MAX_LAYERS:,} layers (repeats multiplied out), the "
                                         "limit per spec", loc))
        return not self.over

    def layers(self, items: LList, path: tuple, stack: tuple, mult: int = 1) -> LList:
        out = _expanded()
        out.loc = items.loc
        for i, item in enumerate(items):
            if self.over:
                break
            loc = items.item_locs[i]
            if not stack:  # a limit crossed inside a block is reported where the block is used
                self.at = ((*path, i), loc)
            rep = item.get("repeat") if isinstance(item, LDict) else None
            if isinstance(item, LDict) and ("block" in item or (
                    isinstance(rep, LDict) and "block" in rep)):
                expanded = (self.use(item, (*path, i), loc, stack, mult) if "block" in item
                            else self.repeated(rep, (*path, i, "repeat"), loc, stack, mult))
                out.extend(expanded)
                out.item_locs.extend(expanded.item_locs)
                out.item_origins.extend(expanded.item_origins)
                continue
            if not self.grow(mult, *(self.at if stack else ((*path, i), loc))):
                break
            if isinstance(item, LDict):
                self.nested(item, (*path, i), stack, mult)
            out.append(item)
            out.item_locs.append(loc)
            out.item_origins.append(self.origin((*path, i), stack))
        return out

    def origin(self, path: tuple, stack: tuple) -> tuple[tuple, str]:
        """Where an item at written `path` shows in messages: inside a block, the network item
        that uses the block, and the block's own layer path as a note."""
        if not stack:
            return path, ""
        return self.at[0], f"block {stack[-1]}, {format_path(path[2:])}"

    def nested(self, item: LDict, path: tuple, stack: tuple, mult: int) -> None:
        if isinstance(item.get("residual"), LList):
            item["residual"] = self.layers(item["residual"], (*path, "residual"), stack, mult)
        rep = item.get("repeat")
        if isinstance(rep, LDict) and isinstance(rep.get("layers"), LList):
            times = _times(rep.get("times")) or 1  # a wrong `times` is the schema's to report
            if times > MAX_LAYERS:
                self.grow(times, (*path, "repeat", "times"), rep.val_locs.get("times"))
                return
            rep["layers"] = self.layers(rep["layers"], (*path, "repeat", "layers"), stack,
                                        mult * times)

    def repeated(self, rep: LDict, path: tuple, loc: Location | None, stack: tuple, mult: int
                 ) -> LList:
        """`repeat: {times, block, args}`: the block once per repetition, `i` = 0, 1, ..."""
        out = _expanded()
        times = _times(rep.get("times"))
        if isinstance(rep.get("times"), str) and _REF.search(rep["times"]):
            return out  # its `${...}` failed, and that was reported
        if times is None or times < 0:
            self.problems.append(Problem(format_path((*path, "times")), "must be a whole "
                                         f"number >= 0, got {rep.get('times')!r}"[:200], loc))
            return out
        if times > MAX_LAYERS:  # even a block without layers: the loop alone would hang
            self.grow(times, (*path, "times"), rep.val_locs.get("times", loc))
            return out
        for i in range(times):
            if self.over:
                break
            args = _clone(rep)
            self.sub.walk(args, {**self.env, "i": i}, path, force=True)
            body = self.use(args, path, loc, stack, mult)
            out.extend(body)
            out.item_locs.extend(body.item_locs)
            out.item_origins.extend((where, f"repetition {i} of {note}")
                                    for where, note in body.item_origins)
        return out

    def use(self, item: LDict, path: tuple, loc: Location | None, stack: tuple, mult: int = 1
            ) -> LList:
        """The layers of the block `item` names, with its arguments substituted."""
        name = item.get("block")
        args = {k: v for k, v in item.items() if k not in ("block", "times")}
        where = item.val_locs.get("block", loc)
        if not isinstance(name, str) or name not in self.blocks:
            msg = f"unknown block '{name}'{did_you_mean(str(name), set(self.blocks))}"
            self.problems.append(Problem(format_path((*path, "block")), msg, where))
            return _expanded()
        if name in stack:
            self.problems.append(Problem(format_path(path), f"block '{name}' uses itself", where))
            return _expanded()
        block = self.blocks[name]
        if block is None:  # malformed, reported with the block
            return _expanded()
        defaults, layers = block
        unknown = sorted(set(args) - set(defaults))
        missing = sorted(a for a, d in defaults.items() if d is None and a not in args)
        for a in unknown:
            msg = f"block '{name}' has no argument '{a}'{did_you_mean(a, set(defaults))}"
            self.problems.append(Problem(format_path((*path, a)), msg, item.key_locs.get(a, where)))
        for a in missing:
            msg = f"block '{name}' needs argument '{a}'"
            self.problems.append(Problem(format_path(path), msg, where))
        env = {**self.env, **{k: v for k, v in defaults.items() if v is not None}, **args}
        body = _clone(layers)
        self.sub.walk(body, env, ("blocks", name, "layers"))
        return self.layers(body, ("blocks", name, "layers"), (*stack, name), mult)
