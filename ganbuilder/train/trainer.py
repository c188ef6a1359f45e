"""The training loop: objectives in order each iteration, metrics, samples and checkpoints.

The trainer knows nothing of terminals or windows: it writes the run folder and emits events;
the CLI and the GUI decide what to show.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.data import open_source
from ganbuilder.data.latent import sample_latent
from ganbuilder.data.registry import with_defaults
from ganbuilder.device import pick_device
from ganbuilder.errors import CheckpointError, DataError, UserError
from ganbuilder.losses import GAN_LOSSES, TermContext
from ganbuilder.losses.pool import HistoryPool
from ganbuilder.optim import build_optimizer, lr_factor
from ganbuilder.runs.checkpoint import (
    check_compatible,
    check_optimizers,
    checkpoint_step,
    first_nonfinite,
    load_checkpoint,
    optimizer_types,
    save_checkpoint,
)
from ganbuilder.runs.folder import later_checkpoints, latest_checkpoint, truncate_metrics
from ganbuilder.runs.grid import save_png
from ganbuilder.runs.samples import render_samples
from ganbuilder.spec import Spec
from ganbuilder.train.control import Control
from ganbuilder.train.ema import WeightAverage
from ganbuilder.train.events import (
    CheckpointSaved,
    Event,
    Failed,
    Finished,
    Paused,
    Resumed,
    SampleGrid,
    Started,
    StepMetrics,
)


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite."""


class _Objective:
    """One optimizer step kind: which networks it trains and with which weighted terms."""

    def __init__(self, name: str, spec: Spec, gan: GAN):
        cfg = spec.tree["objectives"][name]
        self.name = name
        self.updates = frozenset(cfg["updates"])
        self.repeat = cfg.get("repeat", 1)
        self.clip = cfg.get("clip_weights")
        self.terms = spec.analysis.objective_terms(name)
        self.parameters = [p for n in sorted(self.updates) for p in gan.nets[n].parameters()]
        self.optimizer = build_optimizer(cfg.get("optimizer") or spec.training.get("optimizer"),
                                         self.parameters)
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]

    def step(self) -> None:
        """The optimizer step, then WGAN's weight clipping when the objective asks for it."""
        self.optimizer.step()
        if self.clip is not None:
            with torch.no_grad():
                torch._foreach_clamp_min_(self.parameters, -self.clip)
                torch._foreach_clamp_max_(self.parameters, self.clip)


class Trainer:
    """Trains a Spec, writing `run_dir` (spec.yaml, metrics.jsonl, samples/, checkpoints/)."""

    def __init__(self, spec: Spec, run_dir: Path, device: str | None = None,
                 control: Control | None = None, resume: Path | None = None,
                 steps: int | None = None):
        self.spec = spec
        self.run_dir = Path(run_dir)
        self._check_run_folder(None if resume is None else Path(resume))
        self.control = control or Control()
        training = spec.training
        self.total_steps = steps or training["steps"]
        self.device = pick_device(device or training["device"])
        seed = training["seed"]
        torch.manual_seed(seed)
        try:
            self.data = open_source(spec.tree["data"], spec.base_dir)
        except DataError as exc:
            raise spec.locate(exc) from None
        batch_size = with_defaults(spec.tree["data"])["batch_size"]
        self.sampler = self.data.sampler(batch_size, seed)
        self.batch_size = batch_size
        self.gan = GAN(spec).to(self.device)
        self.gan_loss = GAN_LOSSES.get(spec.gan_loss)
        self.objectives = [_Objective(n, spec, self.gan) for n in spec.objective_order]
        self.lr_factor = lr_factor(training.get("schedule"), self.total_steps)
        self.latent_generator = torch.Generator().manual_seed(seed + 1)
        self.pool_generator = torch.Generator().manual_seed(seed + 3)
        self.pools: dict[str, HistoryPool] = {}
        self.term_states: dict[str, dict[str, torch.Tensor]] = {}
        ema = training.get("ema")
        self.ema = WeightAverage(self.gan, ema) if ema else None
        self.step = 0
        self.last_checkpoint: Path | None = None
        if resume is not None:
            self._restore(Path(resume))

    def _check_run_folder(self, resume: Path | None) -> None:
        """Refuse a start that would overwrite a checkpoint (or mix two runs in one log). A run
        stopped before its first checkpoint has nothing to continue: the same command starts
        it again, unless the folder's spec.yaml is another spec's."""
        run_dir, logged = self.run_dir, (self.run_dir / "metrics.jsonl").exists()
        if run_dir.exists() and not run_dir.is_dir():
            raise UserError(f"{run_dir} is a file, not a run folder: choose another --out")
        latest = latest_checkpoint(run_dir)
        if resume is None:
            if latest is not None:
                raise UserError(f"{run_dir} already holds a run: continue it with --resume "
                                f"{latest} or choose another --out")
            saved = run_dir / "spec.yaml"
            if logged and saved.is_file() and saved.read_text(encoding="utf-8") != self.spec.text():
                raise UserError(f"{run_dir} holds a run of another spec that stopped before its "
                                "first checkpoint: choose another --out, or delete the folder "
                                "to start over in it")
            return
        if resume.resolve().parent.parent != run_dir.resolve():
            if latest is not None or logged:
                raise UserError(f"{run_dir} already holds another run: continue {resume} in "
                                "its own run folder or choose an empty --out")
            return
        step = checkpoint_step(resume)
        if step is None:
            return  # _restore says what is wrong with the file
        later = later_checkpoints(run_dir, step)
        last = run_dir / "checkpoints" / "last.pt"
        if last.is_file() and not last.samefile(resume) and (checkpoint_step(last) or 0) > step:
            later.append(last)
        if later:
            raise UserError(f"{run_dir} holds checkpoints after step {step} "
                            f"({', '.join(p.name for p in later)}) that continuing from "
                            f"{resume.name} there would overwrite: continue it with --out "
                            "<a new folder>")

    # -- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "spec_name": self.spec.name,
            "spec_text": self.spec.text(),
            "step": self.step,
            "networks": {n: net.state_dict() for n, net in self.gan.nets.items()},
            "optimizers": {o.name: o.optimizer.state_dict() for o in self.objectives},
            "optimizer_types": optimizer_types({o.name: o.optimizer for o in self.objectives}),
            "rng": {"torch": torch.get_rng_state(),
                    "latent": self.latent_generator.get_state(),
                    "pool": self.pool_generator.get_state()},
            "sampler": self.sampler.state_dict(),
            "pools": {k: p.state_dict() for k, p in self.pools.items()},
            "term_states": {k: dict(s) for k, s in self.term_states.items() if s},
            **({"ema": self.ema.state_dict()} if self.ema else {}),
        }

    def _restore(self, path: Path) -> None:
        state = load_checkpoint(path)
        check_compatible(state, dict(self.gan.nets), path)
        check_optimizers(state, {o.name: o.optimizer for o in self.objectives}, path)
        try:
            for name, net in self.gan.nets.items():
                net.load_state_dict(state["networks"][name])
            for o in self.objectives:
                o.optimizer.load_state_dict(state["optimizers"][o.name])
            torch.set_rng_state(state["rng"]["torch"])
            self.latent_generator.set_state(state["rng"]["latent"])
            self.pool_generator.set_state(state["rng"]["pool"])
            self.sampler.load_state_dict(state["sampler"])
            for key, pool_state in state["pools"].items():
                self.pools[key] = HistoryPool(int(pool_state["size"]), self.pool_generator)
                self.pools[key].load_state_dict(pool_state, self.device)
            # Checkpoints written before terms had state have none to restore.
            self.term_states = {key: {n: v.to(self.device) for n, v in values.items()}
                                for key, values in state.get("term_states", {}).items()}
            if self.ema is not None:
                self.ema.load_state_dict(state.get("ema", {}), self.device)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
            # Layout, networks and optimizers were checked above, so what still fails here
            # is a value inside the file (an RNG state of the wrong size, a sampler entry).
            raise CheckpointError(f"{path}: cannot continue from this checkpoint "
                                  f"({type(exc).__name__}: {_describe(exc)})") from None
        self.step = int(state["step"])
        self.last_checkpoint = path

    def save(self, name: str = "last.pt", losses: dict[str, torch.Tensor] | None = None
             ) -> Path:
        """Write a checkpoint, after checking that the weights, the optimizer and term state,
        and `losses` (summed since the last check) are finite: a diverged model raises
        DivergenceError and never replaces the last good checkpoint."""
        losses = {k: torch.as_tensor(v) for k, v in (losses or {}).items()}
        bad = first_nonfinite(losses.items())
        if bad is not None:
            raise DivergenceError(f"{bad} is {float(losses[bad])} at step {self.step}; "
                                  "training diverged")
        state = self.state_dict()
        bad = first_nonfinite(
            [(f"network {n} parameter '{k}'", v) for n, sd in state["networks"].items()
             for k, v in sd.items()]
            + [(f"weight average of {n} '{k}'", v) for n, sd in state.get("ema", {}).items()
               for k, v in sd.items()]
            + [(f"optimizer state of objective {n}", v) for n, sd in state["optimizers"].items()
               for slots in sd["state"].values() for v in slots.values()]
            + [(f"loss-term state {n} '{k}'", v) for n, sd in state["term_states"].items()
               for k, v in sd.items()])
        if bad is not None:
            raise DivergenceError(f"{bad} is not finite at step {self.step}; training diverged")
        path = self.run_dir / "checkpoints" / name
        save_checkpoint(state, path)
        self.last_checkpoint = path
        return path

    # -- one iteration -------------------------------------------------------------------------
    def _draw(self) -> TensorCache:
        batch = {k: v.to(self.device, non_blocking=True) for k, v in self.sampler.next().items()}
        latent = sample_latent(self.spec.tree.get("latent") or {}, self.batch_size,
                               self.latent_generator, self.device)
        return TensorCache(self.gan, {**batch, **latent})

    def train_step(self, sums: dict[str, torch.Tensor]) -> None:
        """One iteration: every objective in order, `repeat` times each."""
        factor = self.lr_factor(self.step)
        cache = self._draw()
        for obj in self.objectives:
            for group, base in zip(obj.optimizer.param_groups, obj.base_lrs, strict=True):
                group["lr"] = base * factor
            for r in range(obj.repeat):
                if r > 0:
                    cache = self._draw()
                self._objective_step(obj, cache, sums)
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.gan, self.step)

    def _objective_step(self, obj: _Objective, cache: TensorCache,
                        sums: dict[str, torch.Tensor]) -> None:
        """One optimizer step of one objective: its weighted terms, backward, step."""
        ctx = TermContext(lambda name: cache.get(name, obj.updates), self.gan.nets,
                          obj.updates, self.gan_loss,
                          history=lambda critic, size: self._pool(obj, critic, size))
        total = 0.0
        share = 1.0 / obj.repeat  # metrics of a repeated objective are its mean
        for term in obj.terms:
            ctx.state = self.term_states.setdefault(f"{obj.name}/{term.label}", {})
            value, extra = term.definition.compute(term.params, ctx)
            total = total + term.weight * value
            _accumulate(sums, f"loss/{obj.name}/{term.label}", value.detach(), share)
            for key, metric in extra.items():
                _accumulate(sums, key, metric, share)
        obj.optimizer.zero_grad(set_to_none=True)
        # Gradients for the trained networks only: the G step backpropagates through D to G
        # without computing D's weight gradients, while graphs through networks this
        # objective does not train stay whole for a later objective to reuse.
        total.backward(inputs=obj.parameters)
        obj.step()
        cache.consumed(obj.updates)
        _accumulate(sums, f"loss/{obj.name}", total.detach(), share)

    def _pool(self, objective: _Objective, critic: str, size: int) -> HistoryPool:
        """The history pool of an objective's critic, created on first use."""
        key = f"{objective.name}/{critic}"
        if key not in self.pools:
            self.pools[key] = HistoryPool(size, self.pool_generator)
        return self.pools[key]

    # -- the loop ------------------------------------------------------------------------------
    def run(self, emit: Callable[[Event], None] = lambda e: None) -> Path:
        """Train to `total_steps` (or until stopped); returns the run folder."""
        training = self.spec.training
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the run folder {self.run_dir}: "
                            f"{exc.strerror or exc}") from None
        (self.run_dir / "spec.yaml").write_text(self.spec.text(), encoding="utf-8")
        emit(Started(self.run_dir, self.spec.name, self.step, self.total_steps,
                     str(self.device)))
        # A resumed run logs again from its checkpoint's step; a restarted one from zero.
        truncate_metrics(self.run_dir / "metrics.jsonl", self.step)
        metrics_file = (self.run_dir / "metrics.jsonl").open("a", encoding="utf-8")
        sums: dict[str, torch.Tensor] = {}
        counts = 0
        tick = time.perf_counter()
        self.gan.train()
        try:
            if self.step == 0:
                self._samples(emit)
            while self.step < self.total_steps:
                if self.control.paused:
                    self._pause(emit, sums)
                if self.control.stop_requested:
                    break
                self.train_step(sums)
                counts += 1
                if self.step % training["log_every"] == 0 or self.step == self.total_steps:
                    now = time.perf_counter()
                    metrics = self._metrics(sums, counts, (now - tick) / counts)
                    metrics_file.write(json.dumps({"step": self.step, **metrics}) + "\n")
                    metrics_file.flush()
                    emit(StepMetrics(self.step, metrics))
                    sums, counts, tick = {}, 0, time.perf_counter()
                if self.step % training["sample_every"] == 0:
                    self._samples(emit)
                if self.step % training["checkpoint_every"] == 0:
                    self.save(f"step_{self.step:06d}.pt", sums)
                    emit(CheckpointSaved(self.step, self.save()))
            stopped = self.step < self.total_steps
            last = self.save(losses=sums)  # first: no sample grid drawn from a diverged model
            if self.step % training["sample_every"] != 0:
                self._samples(emit)
            emit(CheckpointSaved(self.step, last))
        except BaseException as exc:
            emit(Failed(self.step, _describe(exc), self.last_checkpoint))
            raise
        finally:
            metrics_file.close()
        emit(Finished(self.step, self.run_dir, stopped))
        return self.run_dir

    def _pause(self, emit: Callable[[Event], None], sums: dict[str, torch.Tensor]) -> None:
        """Save the model as it is (unless it diverged since the last check, `sums`), then
        wait: a paused run can be closed without loss."""
        emit(Paused(self.step, self.save(losses=sums)))
        self.control.wait_while_paused()
        if not self.control.stop_requested:
            emit(Resumed(self.step))

    def _metrics(self, sums: dict, counts: int, step_time: float) -> dict[str, float]:
        metrics = {k: float(v) / counts for k, v in sums.items()}
        for key, value in metrics.items():
            if not math.isfinite(value):
                raise DivergenceError(f"{key} is {value} at step {self.step}; training diverged")
        for obj in self.objectives:
            metrics[f"lr/{obj.name}"] = obj.optimizer.param_groups[0]["lr"]
        metrics["time/step"] = step_time
        return metrics

    def _samples(self, emit: Callable[[Event], None]) -> None:
        with self.ema.applied(self.gan) if self.ema else nullcontext(self.gan) as gan:
            image = render_samples(gan, self.data, self.spec, self.device)
        path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
        save_png(image, path)
        emit(SampleGrid(self.step, image, path))


def _accumulate(sums: dict[str, torch.Tensor], key: str, value: torch.Tensor,
                share: float = 1.0) -> None:
    if share != 1.0:
        value = value * share
    sums[key] = sums[key] + value if key in sums else value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return str(exc) or type(exc).__name__
