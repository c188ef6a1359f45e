"""The training loop: objectives in order each iteration, metrics, samples and checkpoints.

The trainer knows nothing of terminals or windows: it writes the run folder and emits events;
the CLI and the GUI decide what to show.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.data import open_source
from ganbuilder.data.latent import sample_latent
from ganbuilder.data.loader import default_workers
from ganbuilder.data.prefetch import prefetched
from ganbuilder.data.registry import with_defaults
from ganbuilder.device import pick_device
from ganbuilder.errors import CheckpointError, DataError, UserError
from ganbuilder.files import Appender, is_regular, read_bounded, real_path, same_file, write_file
from ganbuilder.losses import GAN_LOSSES, TermContext
from ganbuilder.losses.pool import HistoryPool
from ganbuilder.optim import build_optimizer, lr_factor
from ganbuilder.runs.checkpoint import (
    check_compatible,
    check_optimizers,
    checkpoint_spec_text,
    checkpoint_step,
    first_nonfinite,
    link_checkpoint,
    load_checkpoint,
    networks_only,
    optimizer_types,
    save_checkpoint,
)
from ganbuilder.runs.continuation import newest_checkpoint, resume_point
from ganbuilder.runs.folder import later_checkpoints, latest_checkpoint, truncate_metrics
from ganbuilder.runs.grid import save_png
from ganbuilder.runs.lock import RunLock
from ganbuilder.runs.metadata import record_metadata
from ganbuilder.runs.samples import render_samples
from ganbuilder.spec import Spec
from ganbuilder.spec.budget import require_memory
from ganbuilder.spec.terms import eager_reads
from ganbuilder.train.accumulation import MicroUniforms, check_micro_batches, micro_batches
from ganbuilder.train.ada import AdaptiveAugmentation
from ganbuilder.train.control import Control
from ganbuilder.train.distributed import Ranks, rank, sync_batch_norm
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
from ganbuilder.train.host_memory import keep_freed_memory
from ganbuilder.train.init_from import InitFrom, apply_init
from ganbuilder.train.kernels import choose_kernels
from ganbuilder.train.label_range import check_label_layers
from ganbuilder.train.loggers import with_loggers
from ganbuilder.train.precision import Precision
from ganbuilder.train.pretrained import load_pretrained, record_pretrained
from ganbuilder.train.streams import SEED_OFFSETS, restore_generator, stream_generator


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite."""


class _Objective:
    """One optimizer step kind: which networks it trains and with which weighted terms."""

    def __init__(self, name: str, spec: Spec, gan: GAN):
        cfg = spec.tree["objectives"][name]
        self.name = name
        self.updates = frozenset(cfg["updates"])
        self.repeat = spec.objectives[name].repeat
        self.clip = cfg.get("clip_weights")
        self.terms = spec.analysis.objective_terms(name)
        self.reads = eager_reads(self.terms, self.updates)  # computed first, in forward order
        # Frozen layers' parameters never reach an optimizer.
        self.parameters = [p for n in sorted(self.updates) for p in gan.trained_parameters(n)]
        self.optimizer = build_optimizer(cfg.get("optimizer") or spec.training.get("optimizer"),
                                         self.parameters)
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]

    def step(self, precision: Precision) -> torch.Tensor | None:
        """The optimizer step, then WGAN's weight clipping when the objective asks for it;
        under fp16 a device tensor, 0 when the scaler skipped the step (its gradients
        overflowed), else 1 (see Precision.step)."""
        stepped = precision.step(self.name, self.optimizer)
        if self.clip is not None:
            with torch.no_grad():
                torch._foreach_clamp_min_(self.parameters, -self.clip)
                torch._foreach_clamp_max_(self.parameters, self.clip)
        return stepped


class Trainer:
    """Trains a Spec, writing `run_dir` (spec.yaml, metrics.jsonl, samples/, checkpoints/)."""

    def __init__(self, spec: Spec, run_dir: Path, device: str | None = None,
                 control: Control | None = None, resume: Path | None = None,
                 steps: int | None = None, init: InitFrom | None = None):
        self.spec = spec
        require_memory(spec)  # the budget is training's: summary and validate describe any size
        self.run_dir = Path(run_dir)
        self.lock = RunLock(self.run_dir)
        self.notes: list[str] = []  # said as warnings when the run starts
        resume = self._check_run_folder(None if resume is None else Path(resume))
        self.control = control or Control()
        training = spec.training
        self.total_steps = steps or training["steps"]
        self.device = pick_device(device or training["device"])
        self.ranks = Ranks.from_env(self.device)  # world 1 unless launched by torchrun
        seed = training["seed"]
        torch.manual_seed(seed)
        try:
            self.data = open_source(spec.tree["data"], spec.base_dir)
        except DataError as exc:
            raise spec.locate(exc) from None
        check_label_layers(spec, self.data.num_classes)  # before torch meets a label past them
        batch_size = with_defaults(spec.tree["data"])["batch_size"]
        self.ranks.check_batch(batch_size)
        self.accumulate = training["accumulate"]  # micro-batches per optimizer step
        if why := check_micro_batches(batch_size, self.ranks.world, self.accumulate):
            raise UserError(why)
        self.sampler = self.data.sampler(batch_size, seed)
        if self.ranks.active:  # each rank makes (a decoding source) or keeps its share only
            self.sampler.share = self.ranks.share(batch_size)
        workers = with_defaults(spec.tree["data"])["workers"]
        self.sampler.use_workers(default_workers(self.device.type) if workers == "auto"
                                 else workers, pin=self.device.type == "cuda")
        # Made ahead in a thread; only the tensors an iteration reads.
        self.sampler = prefetched(self.sampler, self.device.type,
                                  spec.analysis.training_inputs())
        choose_kernels(self.device, training.get("deterministic", False))
        self.batch_size = batch_size
        self.gan = GAN(spec).to(self.device)
        # networks.N.weights for a fresh start; a resumed run has them in its checkpoint.
        self.pretrained = load_pretrained(self.gan, spec) if resume is None else {}
        self.ada = AdaptiveAugmentation(spec, self.gan.nets, batch_size, self.ranks)
        self._speed_switches(training)
        self.gan_loss = GAN_LOSSES.get(spec.gan_loss)
        self.objectives = [_Objective(n, spec, self.gan) for n in spec.objective_order]
        self.lr_factor = lr_factor(training.get("schedule"), self.total_steps)
        # Noise the step feeds the device is drawn there (train/streams.py).
        self.latent_generator = stream_generator("latent", seed, self.device)
        self.pool_generator = stream_generator("pool", seed, self.device)
        self.uniform_generator = stream_generator("uniform", seed, self.device)
        self.precision = Precision(training["precision"], self.device,
                                   [o.name for o in self.objectives])
        self._seed_rank()
        self.data_time = 0.0
        self.objective_keys: dict[str, set[str]] = {}  # fp16: the metrics each objective sums
        self.stop_voted = False  # under torchrun: whether a rank asked to stop, at the last log
        self.pools: dict[str, HistoryPool] = {}
        self.term_states: dict[str, dict[str, torch.Tensor]] = {}
        ema = training.get("ema")
        self.ema = WeightAverage(self.gan, ema) if ema else None
        self.calibrated_at = -1  # the step whose averaged batch norm statistics are measured
        self.step = 0
        self.last_checkpoint: Path | None = None
        self.saved_at = -1  # the step last.pt was last written at by this run
        self.init_origin: dict | None = None  # `--init`: the checkpoint the weights came from
        if resume is not None:
            self._restore(resume)
        elif init is not None:
            self.init_origin = apply_init(self, init)

    def _check_run_folder(self, resume: Path | None) -> Path | None:
        """Refuse a start that would overwrite a checkpoint, a spec the user wrote, or mix two
        runs in one log (a live run there included). A run stopped before its first
        checkpoint has nothing to continue: the same command starts it again, unless the
        folder's spec.yaml is another spec's. Returns the checkpoint to continue from."""
        run_dir, logged = self.run_dir, (self.run_dir / "metrics.jsonl").exists()
        if run_dir.exists() and not run_dir.is_dir():
            raise UserError(f"{run_dir} is a file, not a run folder: choose another --out")
        if rank() == 0:  # rank 0 takes the folder for all ranks
            self.lock.check()
        self._check_spec_file(logged)
        latest = newest_checkpoint(run_dir)
        if resume is None:
            if latest is not None:
                raise UserError(f"{run_dir} already holds a run: continue it with --resume "
                                f"{latest} or choose another --out")
            return None
        if real_path(resume).parent.parent != real_path(run_dir):
            if latest is not None or logged:
                raise UserError(f"{run_dir} already holds another run: continue {resume} in "
                                "its own run folder or choose an empty --out")
            return resume
        resume, note = resume_point(resume, run_dir)
        if note:
            self.notes.append(note)
        step = checkpoint_step(resume)
        if step is None:
            return resume  # _restore says what is wrong with the file
        later = later_checkpoints(run_dir, step)
        last = run_dir / "checkpoints" / "last.pt"
        if last.is_file() and not last.samefile(resume) and (checkpoint_step(last) or 0) > step:
            later.append(last)
        if later:
            raise UserError(f"{run_dir} holds checkpoints after step {step} "
                            f"({', '.join(p.name for p in later)}) that continuing from "
                            f"{resume.name} there would overwrite: continue from the newest "
                            f"with --resume {latest}, or from this one with --out <a new "
                            "folder>")
        return resume

    def _check_spec_file(self, logged: bool) -> None:
        """The folder's spec.yaml is the run's record of its resolved spec: never the user's
        spec file (or one it extends), nor a spec.yaml that no run of this spec wrote."""
        saved = self.run_dir / "spec.yaml"
        text = _text(saved)
        if not saved.exists() or text == self.spec.text():
            return
        newest = newest_checkpoint(self.run_dir)
        if newest is not None and text == checkpoint_spec_text(newest):
            return  # the record the run wrote (read back as the spec, say): the run's to update
        if same_file(saved, self.spec.source_files()) is not None:
            raise UserError(f"{saved} is the spec being run (or one it extends), and the run "
                            "would replace it with its resolved text: choose another --out "
                            "than the spec's folder")
        if latest_checkpoint(self.run_dir) is None:
            what = ("a run of another spec that stopped before its first checkpoint"
                    if logged else "a spec.yaml that no run wrote")
            raise UserError(f"{self.run_dir} holds {what}: choose another --out, or delete "
                            "the folder to start over in it")

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
                    "pool": self.pool_generator.get_state(),
                    "uniform": self.uniform_generator.get_state(),
                    "device": self.latent_generator.device.type},  # latent's and uniform's
            "world_size": self.ranks.world,
            "scalers": self.precision.state_dict(),
            "sampler": self.sampler.state_dict(),
            "pools": {k: p.state_dict() for k, p in self.pools.items()},
            "term_states": {k: dict(s) for k, s in self.term_states.items() if s},
            **({"ema": self.ema.state_dict()} if self.ema else {}),
            **({"init": self.init_origin} if self.init_origin else {}),
        }

    def _restore(self, path: Path) -> None:
        state = load_checkpoint(path)
        check_compatible(state, dict(self.gan.nets), path)
        if networks_only(state):  # `ganbuilder import`'s: weights only, the rest starts afresh
            self._restore_networks(state)
            self.last_checkpoint = path
            return
        check_optimizers(state, {o.name: o.optimizer for o in self.objectives}, path)
        try:
            for name, net in self.gan.nets.items():
                net.load_state_dict(state["networks"][name])
            for o in self.objectives:
                o.optimizer.load_state_dict(state["optimizers"][o.name])
            torch.set_rng_state(state["rng"]["torch"])
            # Drawn on another device kind: the streams restart from a seed of the step.
            seed = self.spec.training["seed"] + 1000003 * int(state["step"])
            saved_on = state["rng"].get("device", "cpu")  # older checkpoints drew on the CPU
            restore_generator(self.latent_generator, state["rng"]["latent"], saved_on,
                              seed + SEED_OFFSETS["latent"])
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
            if "uniform" in state["rng"]:  # checkpoints from before it drew from the global RNG
                restore_generator(self.uniform_generator, state["rng"]["uniform"], saved_on,
                                  seed + SEED_OFFSETS["uniform"])
            self.precision.load_state_dict(state.get("scalers", {}))
            self._restore_rank(state)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
            # Layout, networks and optimizers were checked above, so what still fails here
            # is a value inside the file (an RNG state of the wrong size, a sampler entry).
            raise CheckpointError(f"{path}: cannot continue from this checkpoint "
                                  f"({type(exc).__name__}: {_describe(exc)})") from None
        self.step = int(state["step"])
        self.init_origin = state.get("init")
        self.last_checkpoint = path

    def _restore_networks(self, state: dict) -> None:
        """The weights (and averages) of a checkpoint holding nothing else, at step 0."""
        for name, net in self.gan.nets.items():
            net.load_state_dict(state["networks"][name])
        if self.ema is not None:  # the average the file has, else the weights themselves
            self.ema.load_state_dict({n: state.get("ema", {}).get(n, state["networks"][n])
                                      for n in self.ema.names}, self.device)

    def save(self, name: str = "last.pt", losses: dict[str, torch.Tensor] | None = None,
             also_last: bool = False) -> Path:
        """Write a checkpoint, after checking that the weights, the optimizer and term state,
        and `losses` (summed since the last check) are finite: a diverged model raises
        DivergenceError and never replaces the last good checkpoint. `also_last` makes
        last.pt the same file (written once); the returned path is then last.pt."""
        # The mean over ranks, so that every rank agrees on a divergence.
        losses = self.ranks.mean({k: torch.as_tensor(v) for k, v in (losses or {}).items()})
        bad = first_nonfinite(losses.items())
        if bad is not None:
            raise DivergenceError(f"{bad} is {float(losses[bad])} at step {self.step}; "
                                  "training diverged")
        self._calibrate_average()
        state = self.state_dict()
        if self.ranks.active:
            state["ranks"] = self.ranks.gather(self._rank_state())
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
        if self.ranks.is_main:  # rank 0 alone writes the run folder
            save_checkpoint(state, path)
        if also_last:
            last = path.with_name("last.pt")
            if self.ranks.is_main:
                link_checkpoint(path, last)
            path = last
        self.last_checkpoint = path
        self.saved_at = self.step if also_last or name == "last.pt" else self.saved_at
        return path

    # -- ranks and speed switches ----------------------------------------------------------------
    def _speed_switches(self, training: dict) -> None:
        """SyncBatchNorm under torchrun, channels-last memory order and torch.compile, as the
        training section asks; none changes a parameter's name, so checkpoints stay portable."""
        for name in list(self.gan.nets):
            if training["sync_batch_norm"] and self.ranks.active:
                self.gan.nets[name] = sync_batch_norm(self.gan.nets[name], self.device)
            if training["channels_last"]:
                self.gan.nets[name].to(memory_format=torch.channels_last)
            if training["compile"]:
                self.gan.nets[name].compile()  # in place: state_dict keys keep their names
        self.channels_last = training["channels_last"]

    def _seed_rank(self, step: int = 0) -> None:
        """Each rank's own noise (dropout, noise inputs, history pools); rank 0's is a single
        process's, so one process and rank 0 of many start alike."""
        if self.ranks.rank > 0:
            seed = self.spec.training["seed"] + 7919 * self.ranks.rank + 104729 * step
            torch.manual_seed(seed)
            self.pool_generator.manual_seed(seed + SEED_OFFSETS["pool"])

    def _rank_state(self) -> dict:
        """What differs between ranks: their noise, history pools, loss-term state and batch
        norm statistics (each rank's own unless training.sync_batch_norm)."""
        return {"torch": torch.get_rng_state(), "pool": self.pool_generator.get_state(),
                "pools": {k: p.state_dict() for k, p in self.pools.items()},
                "term_states": {k: {n: v.detach().cpu() for n, v in s.items()}
                                for k, s in self.term_states.items() if s},
                "buffers": {n: {k: b.detach().cpu() for k, b in net.named_buffers()}
                            for n, net in self.gan.nets.items()}}

    def _restore_rank(self, state: dict) -> None:
        """This rank's own state from a checkpoint of several ranks. At the world size it was
        saved with, each rank continues exactly; at another, the global stream (weights,
        optimizers, data and latent draws) continues, a rank the checkpoint has takes its
        state, and a new rank starts its own noise afresh (no longer bit-exact)."""
        saved = state.get("ranks") or []
        if self.ranks.rank >= len(saved):
            if self.ranks.rank > 0:
                self.pools.clear()
                self._seed_rank(int(state["step"]))
            return
        mine = saved[self.ranks.rank]
        torch.set_rng_state(mine["torch"])
        self.pool_generator.set_state(mine["pool"])
        self.pools = {}
        for key, pool_state in mine["pools"].items():
            self.pools[key] = HistoryPool(int(pool_state["size"]), self.pool_generator)
            self.pools[key].load_state_dict(pool_state, self.device)
        self.term_states = {key: {n: v.to(self.device) for n, v in values.items()}
                            for key, values in mine["term_states"].items()}
        with torch.no_grad():
            for name, buffers in mine["buffers"].items():
                own = dict(self.gan.nets[name].named_buffers())
                for key, value in buffers.items():
                    own[key].copy_(value)

    def _uniform(self, n: int, device: torch.device) -> torch.Tensor:
        """Per-sample uniforms for a term, drawn for the global batch and cut to this rank's
        share: a penalty's interpolation weights do not depend on the number of ranks."""
        values = torch.rand(n * self.ranks.world, generator=self.uniform_generator,
                            device=self.uniform_generator.device)
        return values[self.ranks.share(len(values))].to(device, non_blocking=True)

    # -- the weight average's batch norm statistics --------------------------------------------
    CALIBRATION_DRAWS = 16  # batches (BigGAN accumulates standing statistics over 16)

    def _calibrate_average(self) -> None:
        """Measure the averaged weights' batch norm statistics (see WeightAverage.recalibrate)
        once per step, on draws of their own: a fixed data order and latent stream, so the
        training streams, and with them an exact resume, do not depend on when it runs."""
        if self.ema is None or self.calibrated_at == self.step:
            return  # (the draws are lazy: an average without batch norm draws none)
        self.ema.recalibrate(self.gan, self._calibration_draws())
        self.calibrated_at = self.step

    def _calibration_draws(self) -> Iterator[TensorCache]:
        seed = self.spec.training["seed"] + 7
        sampler = self.data.sampler(self.batch_size, seed)
        latents = torch.Generator().manual_seed(seed)
        try:
            for _ in range(self.CALIBRATION_DRAWS):
                batch = {k: v.to(self.device) for k, v in sampler.next().items()}
                latent = sample_latent(self.spec.tree.get("latent") or {}, self.batch_size,
                                       latents, self.device)
                yield TensorCache(self.gan, {**batch, **latent})
        finally:
            sampler.close()

    # -- one iteration -------------------------------------------------------------------------
    def _draw(self) -> list[TensorCache]:
        """This rank's share of the global batch (made ahead by the prefetch thread) and of
        the latent draw (made on the device), in `training.accumulate` micro-batches;
        time/data is the wait for the batch and its copy's launch."""
        start = time.perf_counter()
        batch = {k: v.to(self.device, non_blocking=True)
                 for k, v in self.sampler.next().items()}
        if self.channels_last:
            batch = {k: v.contiguous(memory_format=torch.channels_last)
                     if v.dim() == 4 and v.is_floating_point() else v for k, v in batch.items()}
        self.data_time += time.perf_counter() - start
        latent = self.ranks.shard(sample_latent(self.spec.tree.get("latent") or {},
                                                self.batch_size, self.latent_generator,
                                                self.device))
        return [TensorCache(self.gan, part)
                for part in micro_batches({**batch, **latent}, self.accumulate)]

    def train_step(self, sums: dict[str, torch.Tensor]) -> None:
        """One iteration: every objective in order, `repeat` times each."""
        factor = self.lr_factor(self.step)
        caches = self._draw()
        for obj in self.objectives:
            for group, base in zip(obj.optimizer.param_groups, obj.base_lrs, strict=True):
                group["lr"] = base * factor
            for r in range(obj.repeat):
                if r > 0:
                    caches = self._draw()
                self._objective_step(obj, caches, sums)
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.gan, self.step)

    def _objective_step(self, obj: _Objective, caches: list[TensorCache],
                        sums: dict[str, torch.Tensor]) -> None:
        """One optimizer step of one objective: its weighted terms and backward on each
        micro-batch (their gradients summed, each loss divided by their number), step."""
        uniforms = MicroUniforms(self._uniform, len(caches))
        share = 1.0 / obj.repeat  # metrics of a repeated objective are its mean
        micro_share = share / len(caches)  # ... and of the micro-batches
        step_sums: dict[str, torch.Tensor] = {}
        # Before the forward pass, as the references zero theirs: the memory of the old
        # gradients then serves this step's activations instead of more of the heap.
        obj.optimizer.zero_grad(set_to_none=True)
        for m, cache in enumerate(caches):
            ctx = TermContext(lambda name, cache=cache: cache.get(name, obj.updates),
                              self.gan.nets, obj.updates, self.gan_loss,
                              history=lambda critic, size: self._pool(obj, critic, size),
                              uniform=uniforms.for_micro(m),
                              grad_scale=self.precision.grad_scale(obj.name))
            total: torch.Tensor | None = None
            with self.precision.autocast():
                cache.prefetch(obj.reads, obj.updates)
                for term in obj.terms:
                    if self.step % term.every:
                        continue  # lazy regularisation: this step goes without the term
                    ctx.state = self.term_states.setdefault(f"{obj.name}/{term.label}", {})
                    value, extra = term.definition.compute(term.params, ctx)
                    weighted = _scaled(value.float(), term.weight * term.every)
                    total = weighted if total is None else total + weighted
                    _accumulate(step_sums, f"loss/{obj.name}/{term.label}",
                                value.detach().float(), micro_share)
                    for key, metric in extra.items():
                        _accumulate(step_sums, key, metric, micro_share)
            if total is None:
                return  # every term is lazy and rests this step: no optimizer step
            # Gradients for the trained networks only: the G step backpropagates through D
            # to G without computing D's weight gradients, while graphs through networks this
            # objective does not train stay whole for a later objective to reuse. Under
            # torchrun they are averaged over ranks during the last micro-batch's backward
            # (the hooks send the accumulated gradients).
            last = m == len(caches) - 1
            with self.ranks.averaging(obj.parameters) if last else nullcontext():
                self.precision.backward(obj.name, total if len(caches) == 1
                                        else total / len(caches), obj.parameters)
            _accumulate(step_sums, f"loss/{obj.name}", total.detach(), micro_share)
        kept = obj.step(self.precision)
        for cache in caches:
            cache.consumed(obj.updates)
        if kept is not None:  # fp16: a skipped step's losses are left out (on the device)
            # (where, not a product: a skipped step's losses may be inf or NaN)
            step_sums = {k: torch.where(kept > 0, v, 0.0) for k, v in step_sums.items()}
            _accumulate(sums, f"kept/{obj.name}", kept)
            self.objective_keys.setdefault(obj.name, set()).update(step_sums)
        self.ada.observe(obj.updates, step_sums, share)  # adaptive augmentation's p
        for key, value in step_sums.items():
            _accumulate(sums, key, value)

    def _pool(self, objective: _Objective, critic: str, size: int) -> HistoryPool:
        """The history pool of an objective's critic, created on first use."""
        key = f"{objective.name}/{critic}"
        if key not in self.pools:
            self.pools[key] = HistoryPool(size, self.pool_generator)
        return self.pools[key]

    # -- the loop ------------------------------------------------------------------------------
    def run(self, emit: Callable[[Event], None] = lambda e: None) -> Path:
        """Train to `total_steps` (or until stopped), owning the run folder; returns it."""
        main = self.ranks.is_main  # rank 0 alone writes the run folder
        keep_freed_memory()  # no page faulted in again on every step (see host_memory)
        if main:
            emit = with_loggers(self.spec, emit)  # training.log: csv, tensorboard
            self.lock.acquire()  # creates the folder; a second writer is refused by name
            for note in self.notes:
                warnings.warn(note, stacklevel=2)
        try:
            return self._run(emit, main)
        finally:
            self.lock.release()

    def _run(self, emit: Callable[[Event], None], main: bool) -> Path:
        training = self.spec.training
        if main:
            self._check_spec_file((self.run_dir / "metrics.jsonl").exists())
            if _text(self.run_dir / "spec.yaml") != self.spec.text():
                write_file(self.run_dir / "spec.yaml", self.spec.text())
            record_pretrained(self.run_dir, self.pretrained)  # the weights files' sha256
            if self.init_origin:
                record_metadata(self.run_dir, "init", self.init_origin)
        emit(Started(self.run_dir, self.spec.name, self.step, self.total_steps,
                     str(self.device) + (f" x {self.ranks.world} ranks" if main and
                                         self.ranks.active else "")))
        if main:
            # A resumed run logs again from its checkpoint's step; a restarted one from zero.
            truncate_metrics(self.run_dir / "metrics.jsonl", self.step)
        metrics_file = Appender(self.run_dir / "metrics.jsonl") if main else None
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
                # All ranks stop at one step: under torchrun, the first logged one after any
                # rank was asked to (its vote rides on the metrics' all_reduce).
                if self.stop_voted if self.ranks.active else self.control.stop_requested:
                    break
                try:
                    self.train_step(sums)
                except (RuntimeError, IndexError) as exc:
                    named = self._label_range_error(exc)
                    if named is None:
                        raise
                    raise named from None
                counts += 1
                if self.step % training["log_every"] == 0 or self.step == self.total_steps:
                    now = time.perf_counter()
                    metrics = self._metrics(sums, counts, (now - tick) / counts)
                    if metrics_file is not None:
                        metrics_file.write_line(json.dumps({"step": self.step, **metrics}))
                    emit(StepMetrics(self.step, metrics))
                    sums, counts, tick = {}, 0, time.perf_counter()
                    self.data_time = 0.0
                if self.step % training["sample_every"] == 0:
                    self._samples(emit)
                if self.step % training["checkpoint_every"] == 0:
                    emit(CheckpointSaved(self.step, self.save(f"step_{self.step:06d}.pt", sums,
                                                              also_last=True)))
            stopped = self.step < self.total_steps
            # First: no sample grid drawn from a diverged model. A run that ends on a checkpoint
            # step has just written last.pt.
            last = (self.last_checkpoint if self.saved_at == self.step
                    else self.save(losses=sums))
            if self.step % training["sample_every"] != 0:
                self._samples(emit)
            emit(CheckpointSaved(self.step, last))
        except BaseException as exc:
            emit(Failed(self.step, _describe(exc), self.last_checkpoint))
            raise
        finally:
            self.sampler.close()
            if metrics_file is not None:
                metrics_file.close()
        emit(Finished(self.step, self.run_dir, stopped))
        self.ranks.close()
        return self.run_dir

    # torch's words when a class index is past a one_hot's or an embedding's size.
    _LABEL_RANGE = ("Class values must be smaller than num_classes", "index out of range in self")

    def _label_range_error(self, exc: BaseException) -> UserError | None:
        """A data set with more classes than the spec's label layers take fails inside torch;
        this names the cause (the data's class count) instead."""
        classes = self.data.num_classes
        if classes is None or not any(words in str(exc) for words in self._LABEL_RANGE):
            return None
        path = "data.root" if "root" in self.spec.tree["data"] else "data"
        return self.spec.locate(UserError(
            f"the data has {classes} classes (labels 0-{classes - 1}), more than a one_hot or "
            "embedding layer of the spec takes: set the spec's class count (params.classes, "
            f"the label latent's classes) to {classes}, or list the classes to use in "
            "data.classes", path))

    def _pause(self, emit: Callable[[Event], None], sums: dict[str, torch.Tensor]) -> None:
        """Save the model as it is (unless it diverged since the last check, `sums`), then
        wait: a paused run can be closed without loss."""
        emit(Paused(self.step, self.save(losses=sums)))
        self.control.wait_while_paused()
        if not self.control.stop_requested:
            emit(Resumed(self.step))

    def _metrics(self, sums: dict, counts: int, step_time: float) -> dict[str, float]:
        """The means since the last log over steps and ranks (reduced here only), the
        learning rates, and seconds per step and per step's data loading."""
        skipped = {f"skipped/{n}": c for n, c in self.precision.skipped.items()}
        # One all_reduce (under torchrun) and one read back to the host for all of them.
        sums = self.ranks.mean_floats({**sums, **skipped, "time/data": self.data_time,
                                       "control/stop": float(self.control.stop_requested)})
        self.stop_voted = sums.pop("control/stop") > 0
        data_time = sums.pop("time/data") / counts
        collapsed = self.precision.collapsed({k.split("/", 1)[1]: sums.pop(k) for k in skipped})
        if collapsed:
            raise DivergenceError(f"every fp16 step of objective {collapsed} overflowed for "
                                  f"a while at step {self.step}; training diverged")
        for name in [k.split("/", 1)[1] for k in sums if k.startswith("kept/")]:
            if sums.pop(f"kept/{name}") == 0:  # fp16 skipped all its steps: no figures
                for key in self.objective_keys.get(name, ()):
                    sums.pop(key, None)
        metrics = {k: v / counts for k, v in sums.items()}
        for key, value in metrics.items():
            if not math.isfinite(value):
                raise DivergenceError(f"{key} is {value} at step {self.step}; training diverged")
        for obj in self.objectives:
            metrics[f"lr/{obj.name}"] = obj.optimizer.param_groups[0]["lr"]
        metrics["time/step"] = step_time
        metrics["time/data"] = data_time
        return metrics

    def _samples(self, emit: Callable[[Event], None]) -> None:
        self._calibrate_average()  # on every rank: synchronised batch norm talks across ranks
        if not self.ranks.is_main:
            return
        with self.ema.applied(self.gan) if self.ema else nullcontext(self.gan) as gan:
            image = render_samples(gan, self.data, self.spec, self.device)
        path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
        save_png(image, path)
        emit(SampleGrid(self.step, image, path))


def _text(path: Path) -> str | None:
    """A run folder's spec.yaml as text; None when it is missing or unreadable."""
    if not is_regular(path):
        return None
    try:
        return read_bounded(path).decode("utf-8")
    except (UserError, UnicodeDecodeError):
        return None


def _scaled(value: torch.Tensor, factor: float) -> torch.Tensor:
    # A weight of 1 (most terms') would cost an op forward and one backward for nothing:
    # x * 1.0 is x exactly.
    return value if factor == 1.0 else value * factor


def _accumulate(sums: dict[str, torch.Tensor], key: str, value: torch.Tensor,
                share: float = 1.0) -> None:
    if share != 1.0:
        value = value * share
    sums[key] = sums[key] + value if key in sums else value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return str(exc) or type(exc).__name__
