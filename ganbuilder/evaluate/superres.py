"""The super-resolution evaluator: PSNR and SSIM of the model's HR output against the HR
images of the held-out split, beside the same scores of bicubic upsampling (PIL's filter, the
one LR was made with) of the LR input, so that a model is judged by what it adds.

A super-resolution map is an image map (`Analysis.image_maps`) whose output is larger than
its input, with the input's channels, tied to a data image of the output's shape. Scores are
on all channels in [0, 1], over the whole image (no border shaved, no Y channel: the SR
papers' convention crops `factor` pixels and scores luma, so figures differ from theirs),
averaged over images. LPIPS is not computed: it needs AlexNet/VGG weights and LPIPS's linear
heads, which ganbuilder never downloads.
"""

from __future__ import annotations

from typing import Any

import torch

from ganbuilder.evaluate.draw import run
from ganbuilder.evaluate.images import paired_metrics
from ganbuilder.evaluate.registry import Job, evaluator
from ganbuilder.evaluate.ssim import ssim
from ganbuilder.spec import Spec
from ganbuilder.spec.analysis import ImageMap


def sr_map(spec: Spec, data: dict) -> ImageMap | None:
    """The spec's super-resolution map, if it has one (see the module docstring)."""
    shapes = spec.analysis.tensor_shapes
    for chosen in spec.analysis.image_maps.values():
        low, high = shapes[chosen.image], shapes[chosen.tensor]
        if (not chosen.others and low[0] == high[0] and high[1] > low[1] and high[2] > low[2]
                and any(shapes[t] == high for t in chosen.targets)):
            return chosen
    return None


@evaluator("superres", sr_map, rank=5, samples=1000)
def evaluate_superres(job: Job) -> dict[str, Any]:
    """PSNR and SSIM of the model and of bicubic upsampling on held-out (LR, HR) pairs."""
    from ganbuilder.data.bicubic import resize_batch
    from ganbuilder.evaluate.features import open_real

    chosen: ImageMap = job.target
    target = next(t for t in chosen.targets
                  if job.spec.analysis.tensor_shapes[t] == job.spec.analysis.tensor_shapes[
                      chosen.tensor])
    source, where, _, held_out = open_real(job.spec, job.data)
    count = min(job.n, len(source))
    batch = source.batch(torch.arange(count), None)
    device = next(job.gan.parameters()).device
    inputs = {chosen.image: batch[chosen.image].to(device)}
    fake = run(job.gan, inputs, [chosen.tensor])[0]
    real, low = batch[target].float(), batch[chosen.image].float()
    bicubic = resize_batch(low, tuple(real.shape[-2:]))
    model, base = paired_metrics(fake, real), paired_metrics(bicubic, real)
    return {"kind": "super_resolution", "tensor": chosen.tensor, "real": where, "n": count,
            "held_out": held_out,
            "note": "all channels in [0, 1], no border shaved; bicubic: PIL's filter on the "
                    "LR input",
            "psnr": model["psnr"], "ssim": ssim(fake, real),
            "bicubic_psnr": base["psnr"], "bicubic_ssim": ssim(bicubic, real),
            "psnr_gain": model["psnr"] - base["psnr"]}
