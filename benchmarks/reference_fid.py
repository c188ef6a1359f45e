"""ganbuilder's Inception metrics against the reference implementations, on the same folders
and the same (random-weights) Inception file: `--protocol pytorch-fid` against pytorch-fid's
`calculate_fid_given_paths`, `--protocol clean` against clean-fid's `compute_fid(mode='clean')`,
precision/recall/density/coverage against prdc's `compute_prdc` on features with duplicates.

The reference packages are NOT dependencies of ganbuilder; install them somewhere apart and
point --reference at it (torchvision included: pytorch-fid and clean-fid import it):

    pip install --no-deps --target /tmp/ref pytorch-fid==0.3.0 clean-fid==0.1.35 prdc==0.2 \
        torchvision tqdm
    python benchmarks/reference_fid.py --reference /tmp/ref --work /tmp/fidcmp

With `--write-test-data` it also stores the reference packages' own outputs of each
preprocessing step on one small image (tests/data/protocol_steps.npz), which the tests pin.
Nothing is downloaded: the weights file is put where torch hub looks for pytorch-fid's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"


def make_folders(work: Path, count: int, darker: int) -> tuple[Path, Path]:
    """Two folders of `count` coloured-square images (real 40x40, fake 32x32, the fakes
    `darker` levels darker), plus files each protocol lists differently: an upper-case .PNG,
    a .tif and an image in a subfolder."""
    from PIL import Image

    out = []
    for name, size, seed, shift in (("real", 40, 0, 0), ("fake", 32, 1, darker)):
        root = work / name
        if root.exists():
            out.append(root)
            continue
        (root / "sub").mkdir(parents=True)
        rng = np.random.default_rng(seed)
        for i in range(count):
            image = np.zeros((size, size, 3), np.uint8) + rng.integers(0, 255, 3, dtype=np.uint8)
            y, x = rng.integers(0, size // 2, 2)
            image[y:y + size // 3, x:x + size // 3] = rng.integers(0, 255, 3, dtype=np.uint8)
            noise = rng.integers(0, 40, image.shape)
            image = np.clip(image.astype(np.int64) + noise - shift, 0, 255).astype(np.uint8)
            Image.fromarray(image).save(root / f"{i:04d}.png")
        for extra, fmt in (("upper.PNG", "PNG"), ("sub/nested.png", "PNG"), ("grey.tif", "TIFF")):
            image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            Image.fromarray(image).save(root / extra, format=fmt)
        out.append(root)
    return out[0], out[1]


def ours(fake: Path, real: Path, weights: Path, protocol: str, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GANBUILDER_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "ganbuilder", "evaluate", "--fake", str(fake), "--real",
         str(real), "--inception", str(weights), "--protocol", protocol, "--json",
         "--kid-subset-size", "50"], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def reference_net(device: str = "cpu"):
    """pytorch-fid's own InceptionV3 with the hub-cached (random) weights, no resize and no
    scaling inside: clean-fid's clean mode feeds (x - 128) / 128 itself."""
    from pytorch_fid.inception import InceptionV3

    return InceptionV3([3], resize_input=False, normalize_input=False).to(device).eval()


def clean_fid(fake: Path, real: Path) -> float:
    import torch
    from cleanfid import fid as cleanfid

    net = reference_net()

    def features(x):
        with torch.no_grad():
            return net((x - 128) / 128)[0].squeeze(-1).squeeze(-1)

    return float(cleanfid.compute_fid(str(fake), str(real), mode="clean",
                                      custom_feat_extractor=features, device="cpu",
                                      num_workers=0, use_dataparallel=False, verbose=False))


def pytorch_fid(fake: Path, real: Path) -> float:
    from pytorch_fid.fid_score import calculate_fid_given_paths

    return float(calculate_fid_given_paths([str(fake), str(real)], 50, "cpu", 2048, 0))


def prdc_with_duplicates() -> dict:
    """ganbuilder's precision/recall/density/coverage and prdc's on features where fakes
    duplicate reals and reals duplicate each other."""
    from prdc import compute_prdc

    from ganbuilder.evaluate.fid import density_coverage, precision_recall

    rng = np.random.default_rng(3)
    base = rng.standard_normal((40, 64)).astype(np.float32)
    real = np.concatenate([base, base[:20]])
    fake = np.concatenate([base[10:30], rng.standard_normal((20, 64)).astype(np.float32)])
    theirs = compute_prdc(real, fake, nearest_k=5)
    mine = {**precision_recall(real, fake, 5), **density_coverage(real, fake, 5)}
    return {"prdc": {k: float(v) for k, v in theirs.items()}, "ganbuilder": mine}


def protocol_steps(path: Path) -> None:
    """Each preprocessing step, as the reference packages compute it, on one small image;
    the 299 x 299 outputs are kept on a 10-pixel grid to keep the file small."""
    import torch
    import torchvision.transforms as TF
    from cleanfid.resize import make_resizer
    from pytorch_fid.inception import InceptionV3

    image = np.random.default_rng(5).integers(0, 256, (9, 13, 3), dtype=np.uint8)
    grid = np.s_[:, ::10, ::10]
    # pytorch-fid: ToTensor (u / 255), then its InceptionV3's resize and 2x - 1 before block 0.
    unit = TF.ToTensor()(image)
    net = InceptionV3([0], resize_input=True, normalize_input=True)
    net.blocks = torch.nn.ModuleList([torch.nn.Identity()])
    with torch.no_grad():
        fid_in = net(unit[None])[0][0]
    # clean-fid: PIL bicubic per channel in float, clipped (HWC float32).
    clean = make_resizer("PIL", False, "bicubic", (299, 299))(image).transpose(2, 0, 1)
    np.savez(path, image=image, pytorch_fid_unit=unit.numpy(),
             pytorch_fid_inputs=fid_in.numpy()[grid], clean_resized=clean[grid],
             grid_step=np.array(10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True,
                        help="where pytorch-fid, clean-fid, prdc and torchvision are installed")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fidcmp"))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--darker", type=int, default=0,
                        help="make the fakes this many levels darker (a larger FID)")
    parser.add_argument("--protocols", nargs="+", default=["pytorch-fid", "clean"])
    parser.add_argument("--write-test-data", action="store_true")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(args.reference)]
    os.environ["TORCH_HOME"] = str(args.work / "torch")
    hub = args.work / "torch" / "hub" / "checkpoints" / WEIGHTS
    if not hub.is_file():
        from tests.test_inception import random_weights

        hub.parent.mkdir(parents=True, exist_ok=True)
        random_weights(hub)
    if args.write_test_data:
        protocol_steps(ROOT / "tests" / "data" / "protocol_steps.npz")
    real, fake = make_folders(args.work, args.count, args.darker)
    rows = {}
    references = {"pytorch-fid": pytorch_fid, "clean": clean_fid}
    for protocol in args.protocols:
        reference = references[protocol]
        mine = ours(fake, real, hub, protocol, args.work / "cache")
        theirs = reference(fake, real)
        rows[protocol] = {"ganbuilder": mine["fid"], "reference": theirs,
                          "relative": abs(mine["fid"] - theirs) / abs(theirs),
                          "n": mine["n"], "n_real": mine["n_real"]}
    rows["prdc"] = prdc_with_duplicates()
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
