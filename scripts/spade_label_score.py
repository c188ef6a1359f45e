"""How well a SPADE model's images follow their label maps, on labels2digits' held-out digits.

Each class of the built-in task has its own colour; a pixel of a generated image is given the
class whose mean real colour (over the held-out images) is nearest, and the result is scored
against the label map it was generated from: pixel accuracy and mean IoU over the 4 classes
(the FCN-score idea of pix2pix and SPADE, with a nearest-colour segmenter instead of a trained
one). Printed for the checkpoint's generator with z from the encoder of the real image and
from the prior, for the same networks untrained (the spec's initialisation at the run's
seed), and for the real images (the segmenter's own ceiling).

    python scripts/spade_label_score.py runs/spade/checkpoints/last.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ganbuilder.compile.model import GAN
from ganbuilder.data import open_source
from ganbuilder.sampling import load_model

CLASSES = 4


def scores(image: torch.Tensor, ids: torch.Tensor, centres: torch.Tensor) -> dict:
    """Pixel accuracy and mean IoU of the nearest-centre classes of `image` against `ids`."""
    pixels = image.permute(0, 2, 3, 1).reshape(-1, 3)
    guess = torch.cdist(pixels, centres).argmin(1)
    truth = ids.reshape(-1)
    ious = []
    for c in range(CLASSES):
        union = ((guess == c) | (truth == c)).sum()
        if union:
            ious.append(float(((guess == c) & (truth == c)).sum() / union))
    return {"pixel_acc": round(float((guess == truth).float().mean()), 4),
            "miou": round(sum(ious) / len(ious), 4)}


def generate(gan: GAN, seg: torch.Tensor, real: torch.Tensor, prior: bool) -> torch.Tensor:
    """G's images for the maps, z from E(real) or N(0, 1), in batches of 64."""
    out = []
    generator = torch.Generator().manual_seed(0)
    z_dim = gan.spec.tree["params"]["z_dim"]
    with torch.no_grad():
        for i in range(0, len(seg), 64):
            z = (torch.randn(len(seg[i:i + 64]), z_dim, generator=generator) if prior
                 else gan.nets["E"](real[i:i + 64]))
            out.append(gan.nets["G"](seg[i:i + 64], z))
    return torch.cat(out)


def main() -> None:
    """Print the scores of one checkpoint as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    spec, gan, step = load_model(args.checkpoint)
    size = spec.tree["data"]["image_size"]
    data = open_source({"source": "labels2digits", "split": "test", "image_size": size},
                       Path("."))
    batch = data.batch(torch.arange(len(data)), None)
    real, seg = batch["real"], batch["seg"]
    ids = seg.argmax(1)
    centres = torch.stack([real.permute(0, 2, 3, 1)[ids == c].mean(0) for c in range(CLASSES)])
    for net in gan.nets.values():
        net.eval()
    torch.manual_seed(spec.tree["training"]["seed"])
    untrained = GAN(spec)  # the initialisation the run started from
    for net in untrained.nets.values():
        net.eval()
    result = {
        "step": step,
        "encoded": scores(generate(gan, seg, real, False), ids, centres),
        "prior": scores(generate(gan, seg, real, True), ids, centres),
        "untrained": scores(generate(untrained, seg, real, False), ids, centres),
        "real": scores(real, ids, centres),
        "l1_encoded": round(float((generate(gan, seg, real, False) - real).abs().mean()), 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
