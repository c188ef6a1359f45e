"""`ganbuilder` command line: run, validate, summary, sample, translate, evaluate, export,
eject, schema, gui.

Exit codes: 0 ok, 2 user error (spec, data, checkpoint, flags), 1 internal failure. Heavy
imports happen inside commands, so `ganbuilder validate` never imports torch.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ganbuilder.errors import UserError
from ganbuilder.files import check_target, write_file

EXIT_OK, EXIT_FAILURE, EXIT_USER = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
MAX_SAMPLES = 4096  # a grid larger than this is no picture; it would only exhaust memory


def _spec_args(p: argparse.ArgumentParser, optional_with: str | None = None) -> None:
    """SPEC and --set; `optional_with` names the flag that lets SPEC be left out."""
    if optional_with is None:
        p.add_argument("spec", type=Path, help="spec file (YAML)")
    else:
        p.add_argument("spec", type=Path, nargs="?", default=None,
                       help=f"spec file (YAML); with {optional_with}, the checkpoint's spec")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a spec value, e.g. --set training.steps=200 (repeatable)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganbuilder", description="Declarative YAML model-builder for GANs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="train a spec headless")
    _spec_args(p, optional_with="--resume")
    p.add_argument("--steps", type=int, help="train to this many steps (training.steps, as the "
                   "run folder's spec.yaml records it)")
    p.add_argument("--out", type=Path, help="run folder (default runs/<name>/<timestamp>)")
    p.add_argument("--device", metavar="DEVICE",
                   help="where to train: auto, cpu, cuda, cuda:N or mps (under torchrun, cuda "
                   "is each rank's local GPU)")
    p.add_argument("--nproc", type=int, metavar="N",
                   help="train in N processes (torch.distributed, launched as torchrun would); "
                   "data.batch_size stays the global batch")
    p.add_argument("--resume", type=Path, metavar="CKPT", help="continue from a checkpoint")
    p.add_argument("--init", type=Path, metavar="CKPT",
                   help="start a new run from a checkpoint's weights (fine-tuning)")
    p.add_argument("--init-networks", metavar="NAMES",
                   help="with --init: load only these networks (comma-separated, e.g. G)")
    p.add_argument("--init-optimizers", action="store_true",
                   help="with --init: take the optimizer state too, where the file has it")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("validate", help="check specs without training (fast, no torch)")
    p.add_argument("specs", type=Path, nargs="+", metavar="SPEC")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")

    p = sub.add_parser("summary", help="layer shapes and parameter counts per network")
    _spec_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "sample", help="draw a sample grid, or export samples, from a checkpoint",
        description="--out writes a sample grid (PNG). --out-dir writes --n images one file "
        "each (000000.png ...), or one samples.npz (uint8 N x H x W x C) with --format npz, "
        "for pytorch-fid, clean-fid or torch-fidelity; conditional models draw --label, or "
        "the classes in turn with the labels written beside (labels.csv, or 'labels').")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--seed", type=int, default=0)
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", type=Path, help="PNG file to write (a grid)")
    out.add_argument("--out-dir", type=Path, metavar="DIR",
                     help="folder to export individual samples to (empty, or --force)")
    p.add_argument("--format", choices=["png", "npz"], default="png",
                   help="with --out-dir: one PNG per sample, or one .npz")
    p.add_argument("--batch", type=int, default=250, help="with --out-dir: samples per batch")
    p.add_argument("--psi", type=float, help="truncation: pull styles towards the mean w "
                   "(a `truncation` layer; 0.7 is common)")
    p.add_argument("--mix-seed", type=int, metavar="SEED",
                   help="with --out: style mixing, the fine styles from the latents of SEED "
                   "(a `style_mix` layer)")
    p.add_argument("--crossover", type=int, metavar="K",
                   help="with --mix-seed: the first style layer read from SEED's latents "
                   "(default: half of them)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out file; with --out-dir, an earlier export's "
                   "files (never files it did not write)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    p.add_argument("--label", type=int, help="for conditional models: draw this class only")
    p.add_argument("--live-weights", action="store_true",
                   help="with training.ema: the last step's weights instead of the average")

    p = sub.add_parser(
        "translate", help="apply a trained image-to-image model (translation, "
        "super-resolution) to images",
        description="Translate an image or a folder of images; each output is <out>/<input "
        "stem>.png. Inputs are never overwritten: --out may not be a folder holding inputs, two "
        "inputs with the same stem (a.png, a.jpg) are refused, and existing files in --out are "
        "replaced only with --force.")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--input", type=Path, required=True, help="an image or a folder of images "
                   "(of label maps, for a label-map model: SPADE)")
    p.add_argument("--out", type=Path, required=True,
                   help="folder for the translated images (not a folder holding the inputs)")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], default=None,
                   help="for an A<->B model: which way (default AtoB)")
    p.add_argument("--tensor", help="the forward tensor to write, where the model computes "
                   "several from one image (default: the one a loss ties to other data)")
    p.add_argument("--native-size", action="store_true",
                   help="feed each image at its own size instead of the trained size "
                   "(fully convolutional models: super-resolution)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    p.add_argument("--force", action="store_true",
                   help="replace existing files in --out (earlier translations); never inputs")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="inputs are pix2pix A|B pairs side by side: translate the half the "
                   "model reads (A for AtoB, B for BtoA). Default: split the images exactly "
                   "twice as wide as high when the model was trained on aligned A|B files")
    p.add_argument("--domain", help="a multi-domain model's target domain (StarGAN): a domain "
                   "name or index, or comma-separated attributes (CelebA)")

    p = sub.add_parser(
        "evaluate", help="score a checkpoint with offline metrics",
        description="Score a checkpoint: 2D mode coverage (ring8, grid25), the project's digit "
        "classifier (digits), L1/PSNR/SSIM/label kept (translation), or FID, KID, precision/recall "
        "and density/coverage in Inception-v3 features for image generators on other image "
        "data. The Inception weights (pt_inception-2015-12-05-6726825d.pth, pytorch-fid's "
        "file) are never downloaded: --inception, $GANBUILDER_INCEPTION, or torch's hub cache. "
        "Without a checkpoint, --fake DIR|NPZ --real DIR|NPZ scores two image sets.")
    p.add_argument("checkpoint", type=Path, nargs="?",
                   help="the checkpoint to score (or --fake instead, with --real)")
    p.add_argument("--fake", type=Path, metavar="DIR|NPZ",
                   help="score these images (a folder, or a statistics file) against --real "
                   "without a checkpoint")
    p.add_argument("--n", type=int, default=None,
                   help="samples to score (default: 2500 for 2D mixtures, else 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    p.add_argument("--live-weights", action="store_true",
                   help="with training.ema: the last step's weights instead of the average")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--inception", type=Path, metavar="PATH",
                   help="the FID Inception-v3 weights file (state dict)")
    p.add_argument("--lpips", type=Path, metavar="PATH",
                   help="super-resolution: LPIPS's linear-head file (the lpips package's "
                   "weights/v0.1/vgg.pth; default $GANBUILDER_LPIPS, then an installed lpips "
                   "package), read with VGG16 from torch's hub cache; never downloaded")
    p.add_argument("--real", type=Path, metavar="DIR|NPZ",
                   help="real images to compare with: a folder, or a statistics file (.npz, "
                   "mu and sigma as pytorch-fid saves them); default: the run's data, its test "
                   "split where it has one")
    p.add_argument("--n-real", type=int, default=None,
                   help="at most this many images of a folder, spread evenly over it "
                   "(default: all, as clean-fid and pytorch-fid score)")
    p.add_argument("--protocol", default="clean", metavar="clean|pytorch-fid",
                   help="Inception preprocessing and folder listing: clean-fid's clean mode "
                   "(default) or pytorch-fid's (bilinear on floats, top-level files only); "
                   "compare a score only with numbers of the same protocol")
    p.add_argument("--kid-subset-size", type=int, default=None, metavar="N",
                   help="KID subset size (default 1000; at most the smaller set's count)")
    p.add_argument("--save-stats", type=Path, metavar="NPZ",
                   help="also write the real set's statistics (mu, sigma, features) there")
    p.add_argument("--force", action="store_true", help="replace an existing --save-stats file")

    p = sub.add_parser(
        "export", help="write a trained network as ONNX, TorchScript or safetensors",
        description="Export one network of a checkpoint. Default: the generator (the network "
        "making the first sampled tensor; for translation models the --direction generator), "
        "with the run's averaged weights when it kept them (training.ema).")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--format", required=True, choices=["onnx", "torchscript", "safetensors"])
    p.add_argument("--out", type=Path, required=True, help="file to write")
    p.add_argument("--network", help="the network to export, by its spec name")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], default="AtoB",
                   help="translation models: which generator")
    p.add_argument("--live-weights", action="store_true",
                   help="with training.ema: the last step's weights instead of the average")
    p.add_argument("--psi", type=float, help="truncation baked into the exported network")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")

    p = sub.add_parser("eject", help="write a spec's networks as plain PyTorch source")
    _spec_args(p)
    p.add_argument("--out", type=Path, required=True, help="Python file to write (model.py)")
    p.add_argument("--with-training", action="store_true",
                   help="also write the training loop of the spec's objectives")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")

    p = sub.add_parser("schema", help="print the JSON Schema of spec files (for editors; "
                       "schema/spec-v1.json holds a copy)")
    p.add_argument("--resolved", action="store_true",
                   help="the schema of a resolved spec instead (extends merged, ${...} "
                        "substituted, blocks expanded), which validation checks after loading")

    p = sub.add_parser("flatten", help="write a spec with its `extends` merged into one file")
    p.add_argument("spec", type=Path, help="spec file (YAML)")
    p.add_argument("-o", "--out", type=Path,
                   help="file to write (default: print); never the spec or one it extends")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")

    _import_args(sub)

    p = sub.add_parser("spec", help="print the resolved spec a checkpoint was trained with")
    p.add_argument("checkpoint", type=Path)

    p = sub.add_parser("gui", help="open the desktop app")
    p.add_argument("spec", type=Path, nargs="?")
    for p in sub.choices.values():  # every command reads specs (a checkpoint holds one)
        p.add_argument("--plugin", dest="plugin_files", type=Path, action="append", default=[],
                       metavar="FILE", help="import a plugin file first (repeatable); "
                       "installed plugin packages load on their own")
    return parser


def _import_args(sub) -> None:
    from ganbuilder.zoo import LAYOUTS

    p = sub.add_parser(
        "import", help="make a checkpoint from another project's checkpoint files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Map the networks of another project's checkpoint files onto SPEC (the "
        "layout's spec, with --set for its params) and write a ganbuilder checkpoint that "
        "sample, translate, evaluate, export, the app and run --resume/--init read. "
        "Layouts:\n" + "\n".join(f"  {n:<10} {e.description} -> specs/{e.spec}"
                                  for n, e in LAYOUTS.items()))
    p.add_argument("layout", metavar="LAYOUT", help="the files' project (see above)")
    p.add_argument("files", nargs="+", type=str, metavar="FILE",
                   help="checkpoint files; NAME=FILE says which network a file of one state "
                   "dict holds (G_A=horse2zebra.pth)")
    p.add_argument("--spec", type=Path, required=True, help="the spec the weights fill")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE", help="override a spec value, e.g. --set "
                   "params.n_blocks=9 (repeatable)")
    p.add_argument("-o", "--out", type=Path, required=True, help="checkpoint file to write")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")


def cmd_import(args: argparse.Namespace) -> int:
    from ganbuilder.zoo.importer import import_checkpoint

    done = import_checkpoint(args.layout, args.files, args.spec, args.overrides, args.out,
                             args.force)
    for network, origin in done.sources.items():
        print(f"{network}: {origin}")
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {done.out}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from ganbuilder.errors import SpecError
    from ganbuilder.spec import load_spec

    failed = 0
    for file in args.specs:
        try:
            spec = load_spec(file, args.overrides)
        except SpecError as exc:
            failed += 1
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            continue
        nets = ", ".join(spec.analysis.networks)
        print(f"ok: {file} ({spec.name}: {nets})")
        _print_warnings(spec)
    return EXIT_USER if failed else EXIT_OK


def _print_warnings(spec, files: bool = True) -> None:
    """One `warning:` line per thing a valid spec is likely wrong about (spec.pretrained)."""
    from ganbuilder.spec.pretrained import spec_warnings

    for problem in spec_warnings(spec, files):
        print(f"warning: {problem}", file=sys.stderr)


def cmd_summary(args: argparse.Namespace) -> int:
    from ganbuilder.spec import load_spec
    from ganbuilder.summary import format_summary, summarize

    spec = load_spec(args.spec, args.overrides)
    summary = summarize(spec)
    print(json.dumps(summary, indent=2) if args.json else format_summary(spec, summary))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from ganbuilder.spec import spec_schema
    from ganbuilder.spec.published import published_schema

    print(json.dumps(spec_schema() if args.resolved else published_schema(), indent=2))
    return EXIT_OK


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Inside, a warning (a skipped image, naming its file) prints as one `warning:` line
    instead of a source location and line of code."""
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_: print(f"warning: {message}", file=sys.stderr)
        yield


def cmd_run(args: argparse.Namespace) -> int:
    from ganbuilder.train.distributed import finish_together, launched, rank

    try:
        code = _train(args)
    except UserError as exc:
        if not launched():
            raise
        # Every rank meets the same spec, data and flags: rank 0 alone says what is wrong, and
        # the others wait for it, since the launcher stops all ranks when the first one exits.
        if rank() == 0:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr, flush=True)
        finish_together()
        return EXIT_USER
    if launched() and code != EXIT_OK:
        finish_together()
    return code


def _train(args: argparse.Namespace) -> int:
    import signal

    from ganbuilder.progress import Progress
    from ganbuilder.run_setup import event_sink, run_dir_for
    from ganbuilder.runs.checkpoint import checkpoint_file
    from ganbuilder.spec import load_spec
    from ganbuilder.train.control import Control
    from ganbuilder.train.distributed import launched, rank, run_launcher
    from ganbuilder.train.trainer import DivergenceError, Trainer

    if args.nproc is not None and args.nproc < 1:
        raise UserError(f"--nproc must be at least 1, got {args.nproc}")
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    _init_request(args)  # flags that do not go together: said before building anything
    if args.resume:
        checkpoint_file(args.resume)  # a folder or a missing file: say so before building
    if args.spec is None and args.resume is None:
        raise UserError("run needs a SPEC file, or --resume CKPT to continue from a checkpoint")
    # --steps is recorded as training.steps, so the run folder's spec.yaml and its checkpoints
    # hold the length it trained to (a linear_decay schedule reads it): rerunning it repeats it.
    overrides = args.overrides + ([f"training.steps={args.steps}"]
                                 if args.steps is not None else [])
    spec = (load_spec(args.spec, overrides) if args.spec is not None
            else _checkpoint_spec(args.resume, overrides))
    run_dir = run_dir_for(spec.name, Path(), args.out, args.resume)
    if rank() == 0 and not args.quiet:
        _print_warnings(spec, files=False)  # a missing weights file: the Trainer's error
    if args.nproc and args.nproc > 1 and not launched():
        # The spec and the batch split are checked here, once; the ranks share one run folder.
        from ganbuilder.data.registry import with_defaults
        from ganbuilder.train.distributed import Ranks

        Ranks(0, args.nproc).check_batch(with_defaults(spec.tree["data"])["batch_size"])
        return run_launcher(_rank_argv(args, run_dir), args.nproc)
    control = Control()
    first_sigint = [0.0]

    def on_sigint(signum, frame) -> None:
        import time

        # Under a launcher a Ctrl-C reaches a rank twice (the terminal, then the launcher).
        if launched() and first_sigint[0]:
            if time.monotonic() - first_sigint[0] < 5:
                return
            raise KeyboardInterrupt  # a second Ctrl-C of one's own: abort
        first_sigint[0] = time.monotonic()
        if rank() == 0:
            print("\nstopping after this step and saving a checkpoint (Ctrl-C again to abort)",
                  file=sys.stderr)
        control.stop()
        if not launched():
            signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_sigint)
    trainer = Trainer(spec, run_dir, device=args.device, control=control, resume=args.resume,
                      init=_init_request(args))  # --steps is in the spec (training.steps)
    if args.resume and trainer.step >= trainer.total_steps:
        raise UserError(f"{args.resume} is already at step {trainer.step} of "
                        f"{trainer.total_steps}: pass --steps above {trainer.step} to train on")
    found = trainer.data.describe()
    quiet = args.quiet or rank() > 0  # rank 0 speaks for all
    if found and not quiet:
        print(f"data: {found}", file=sys.stderr)
    # Rank 0 reports for all; a failure on another rank still ends in its traceback or error.
    progress = _DataWaitNotice(Progress(quiet=quiet), quiet) if rank() == 0 else _ignore
    if rank() == 0:
        progress = event_sink(spec, progress, str(trainer.device))  # training.eval
    try:
        with _warnings_as_lines():
            trainer.run(progress)
    except DivergenceError as exc:
        if rank() > 0:
            return EXIT_FAILURE  # every rank sees the divergence (reduced losses): one message
        keep = (f"the last good checkpoint is {trainer.last_checkpoint} (continue with --resume "
                "and a lower learning rate, or start again)" if trainer.last_checkpoint
                else "no checkpoint was saved before it")
        print(f"error: {exc}; {keep}", file=sys.stderr)
        return EXIT_FAILURE
    # Stopped by Ctrl-C after saving: the shell's convention for an interrupted command.
    return EXIT_INTERRUPTED if control.stop_requested else EXIT_OK


def _rank_argv(args: argparse.Namespace, run_dir: Path) -> list[str]:
    """The `ganbuilder run` command line each rank of `--nproc` runs: the same flags, the run
    folder fixed (so the ranks agree on it) and no --nproc."""
    argv = ["run"] + ([str(args.spec)] if args.spec is not None else [])
    for override in args.overrides:
        argv += ["--set", override]
    for flag, value in (("--steps", args.steps), ("--device", args.device),
                        ("--resume", args.resume), ("--init", args.init),
                        ("--init-networks", args.init_networks)):
        if value is not None:
            argv += [flag, str(value)]
    argv += ["--init-optimizers"] if args.init_optimizers else []
    for file in args.plugin_files:
        argv += ["--plugin", str(file)]
    return argv + ["--out", str(run_dir)] + (["--quiet"] if args.quiet else [])


def _init_request(args: argparse.Namespace):
    """`--init` and its options as the trainer takes them (None without --init)."""
    from ganbuilder.runs.checkpoint import checkpoint_file
    from ganbuilder.train.init_from import InitFrom

    if args.init is None:
        if args.init_networks is not None or args.init_optimizers:
            raise UserError("--init-networks and --init-optimizers go with --init CKPT")
        return None
    if args.resume is not None:
        raise UserError("--init starts a new run from a checkpoint's weights, --resume "
                        "continues one: pass one of them")
    if args.spec is None:
        raise UserError("run --init needs the SPEC to fine-tune (it may extend the one the "
                        "checkpoint was trained with)")
    checkpoint_file(args.init)
    networks = None
    if args.init_networks is not None:
        networks = tuple(n.strip() for n in args.init_networks.split(",") if n.strip())
        if not networks:
            raise UserError("--init-networks needs network names, e.g. --init-networks G")
    return InitFrom(args.init, networks, args.init_optimizers)


def _ignore(event: object) -> None:
    """The event sink of ranks other than 0."""


class _DataWaitNotice:
    """Passes events on; says once when loading data has taken over a quarter of the step time
    for several logged steps in a row, and names the setting that helps."""

    STREAK = 3

    def __init__(self, inner: Callable, quiet: bool):
        self.inner, self.quiet, self.streak, self.said = inner, quiet, 0, False

    def __call__(self, event) -> None:
        metrics = getattr(event, "metrics", None)
        if metrics and "time/data" in metrics and not self.said:
            slow = metrics["time/data"] > 0.25 * metrics.get("time/step", float("inf"))
            self.streak = self.streak + 1 if slow else 0
            if self.streak >= self.STREAK:
                self.said = True
                if not self.quiet:
                    print(f"\nnote: loading data takes {metrics['time/data'] * 1000:.0f} ms of "
                          f"each {metrics['time/step'] * 1000:.0f} ms step; more data.workers "
                          "(--set data.workers=N) would keep up", file=sys.stderr)
        self.inner(event)


def cmd_sample(args: argparse.Namespace) -> int:
    from ganbuilder.sampling import sample_checkpoint

    if args.out_dir is not None:
        if args.mix_seed is not None or args.crossover is not None:
            raise UserError("--mix-seed and --crossover draw a grid: use them with --out")
        return _export_samples(args)
    if not 1 <= args.n <= MAX_SAMPLES:
        raise UserError(f"--n must be in 1..{MAX_SAMPLES}, got {args.n}")
    if args.out.suffix.lower() != ".png":
        raise UserError(f"--out {args.out}: the sample grid is a PNG file, name it *.png")
    if args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder: name the PNG file to write")
    try:
        path = sample_checkpoint(args.checkpoint, args.out, n=args.n, seed=args.seed,
                                 device=args.device, label=args.label,
                                 ema=not args.live_weights, psi=args.psi,
                                 force=args.force, mix_seed=args.mix_seed,
                                 crossover=args.crossover)
    except OSError as exc:  # data sources and checkpoints report their own: this is --out
        where = f"{exc.filename}: " if exc.filename else ""
        raise UserError(f"cannot write {args.out} ({where}{exc.strerror or exc})") from None
    print(f"wrote {path}")
    return EXIT_OK


def _export_samples(args: argparse.Namespace) -> int:
    from ganbuilder.sample_export import export_samples

    def progress(done: int, total: int) -> None:
        print(f"\rwrote {done}/{total} samples", end="", file=sys.stderr, flush=True)

    try:
        result = export_samples(args.checkpoint, args.out_dir, args.n, args.format, args.batch,
                                args.seed, args.device, args.label, not args.live_weights,
                                args.force, progress, psi=args.psi)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise UserError(f"cannot write to {args.out_dir} ({where}{exc.strerror or exc})"
                        ) from None
    print(file=sys.stderr)
    labels = f", labels of '{result.label}' beside them" if result.label else ""
    print(f"wrote {result.count} samples of '{result.tensor}' to {result.out_dir}{labels}")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ganbuilder.evaluate import evaluate_checkpoint
    from ganbuilder.evaluate.report import format_report

    if args.n_real is not None and args.n_real < 2:
        raise UserError(f"--n-real must be at least 2, got {args.n_real}")
    if (args.checkpoint is None) == (args.fake is None):
        raise UserError("evaluate takes a checkpoint, or --fake DIR|NPZ with --real DIR|NPZ "
                        "to score two image sets; not " + ("both" if args.fake else "neither"))
    if args.fake is not None and args.real is None:
        raise UserError("--fake needs --real: the set to compare the images with")
    if args.save_stats is not None:
        inputs = [p for p in (args.checkpoint, args.real, args.inception) if p is not None]
        check_target(args.save_stats, args.force, inputs, "--save-stats", "evaluate")
    tty = sys.stderr.isatty()

    def progress(line: str) -> None:
        if tty:  # one line, redrawn; a log file gets none of it
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)

    options = {"inception": args.inception, "real": args.real, "n_real": args.n_real,
               "save_stats": args.save_stats, "progress": progress,
               "protocol": args.protocol, "kid_subset_size": args.kid_subset_size,
               "lpips": args.lpips}
    if args.fake is not None:
        from ganbuilder.evaluate.sets import score_sets

        result = score_sets(args.fake, args.real, args.seed, args.device, options)
    else:
        result = evaluate_checkpoint(args.checkpoint, n=args.n, seed=args.seed,
                                     device=args.device, ema=not args.live_weights,
                                     options=options)
    if result.get("kind") == "inception":
        progress("")
        if args.save_stats:
            print(f"wrote the real set's statistics to {args.save_stats}", file=sys.stderr)
    elif args.inception or args.real or args.save_stats:
        print(f"warning: --inception, --real and --save-stats apply to the Inception metrics; "
              f"'{result.get('kind')}' ran instead", file=sys.stderr)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return EXIT_OK


def cmd_translate(args: argparse.Namespace) -> int:
    from ganbuilder.translate import translate_checkpoint

    written = translate_checkpoint(args.checkpoint, args.input, args.out, args.direction,
                                   args.device, aligned=args.aligned, force=args.force,
                                   tensor=args.tensor, native_size=args.native_size,
                                   domain=args.domain)
    print(f"wrote {len(written)} image(s) to {args.out}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from ganbuilder.export import export_checkpoint

    path = export_checkpoint(args.checkpoint, args.format, args.out, network=args.network,
                             direction=args.direction, ema=not args.live_weights,
                             psi=args.psi, force=args.force)
    print(f"wrote {path}")
    return EXIT_OK


def cmd_eject(args: argparse.Namespace) -> int:
    from ganbuilder.export import eject_source
    from ganbuilder.spec import load_spec

    spec = load_spec(args.spec, args.overrides)
    _check_out(args, spec, "eject")
    source = eject_source(spec, args.overrides, args.with_training)
    write_file(args.out, source)
    print(f"wrote {args.out}")
    return EXIT_OK


def _checkpoint_spec(path: Path, overrides: list[str]):
    """The resolved spec a checkpoint holds (never following `extends`)."""
    from ganbuilder.runs.checkpoint import load_checkpoint
    from ganbuilder.spec import load_spec_text

    state = load_checkpoint(path)
    spec = load_spec_text(state["spec_text"], f"{path}#spec", path.resolve().parent, overrides,
                          resolved=True)
    if overrides:  # a resume: training knobs may change, the model may not
        from ganbuilder.runs.continuation import check_resume_changes

        check_resume_changes(load_spec_text(state["spec_text"], f"{path}#spec",
                                            path.resolve().parent, resolved=True),
                             spec, overrides)
    return spec


def cmd_spec(args: argparse.Namespace) -> int:
    from ganbuilder.runs.checkpoint import checkpoint_file

    checkpoint_file(args.checkpoint)
    print(_checkpoint_spec(args.checkpoint, []).text(), end="")
    return EXIT_OK


def cmd_flatten(args: argparse.Namespace) -> int:
    from ganbuilder.spec import load_spec
    from ganbuilder.spec.flatten import flatten_text

    spec = load_spec(args.spec)  # a spec that does not load is not worth sharing
    out = args.out or Path.cwd() / args.spec.name
    text = flatten_text(args.spec, out)
    if args.out is None:
        print(text, end="")
        return EXIT_OK
    _check_out(args, spec, "flatten")
    write_file(args.out, text)
    print(f"wrote {args.out}")
    return EXIT_OK


def _check_out(args: argparse.Namespace, spec, command: str) -> None:
    """`--out` may be neither the spec nor a file it extends (even with --force, and by
    identity: a hard link or symlink to one counts), and replaces a file only with --force."""
    check_target(args.out, args.force, spec.source_files(), command=command)


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from gui.app import main as gui_main
    except ImportError as exc:
        raise UserError(f"the desktop app needs the 'gui' extra ({exc.name} is missing): "
                        "pip install 'ganbuilder[gui]'") from None
    return gui_main([str(args.spec)] if args.spec else [])


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run, "validate": cmd_validate, "summary": cmd_summary, "sample": cmd_sample,
    "translate": cmd_translate, "evaluate": cmd_evaluate, "schema": cmd_schema,
    "flatten": cmd_flatten, "spec": cmd_spec,
    "gui": cmd_gui, "export": cmd_export, "eject": cmd_eject, "import": cmd_import,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.plugin_files:
            from ganbuilder.spec.plugins import load_file

            for file in args.plugin_files:
                load_file(file)
        return COMMANDS[args.command](args)
    except UserError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
