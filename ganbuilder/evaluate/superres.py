"""The super-resolution evaluator: PSNR and SSIM of the model's HR output against the HR
images of the held-out split, beside the same scores of bicubic upsampling (PIL's filter, the
one LR was made with) of the LR input, so that a model is judged by what it adds.

A super-resolution map is an image map (`Analysis.image_maps`) whose output is larger than
its input, with the input's channels, tied to a data image of the output's shape. Scores are
on all channels in [0, 1], over the whole image (no border shaved, no Y channel: the SR
papers' convention crops `factor` pixels and scores luma, so figures differ from theirs),
averaged over images. LPIPS (`ganbuilder.evaluate.lpips`, the vgg variant) of the model and
of bicubic is added where its two weights files are present (`--lpips` names the heads file);
otherwise one line says which files it needs where (nothing is downloaded).
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

LPIPS_BATCH = 50  # image pairs per VGG16 pass


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
            "psnr_gain": model["psnr"] - base["psnr"],
            **_lpips(fake, real, bicubic, job.options.get("lpips"))}


def _lpips(fake: torch.Tensor, real: torch.Tensor, bicubic: torch.Tensor,
           heads: str | None) -> dict[str, Any]:
    """LPIPS of the model and of bicubic against HR (lower is closer), or the line saying
    why it is not computed."""
    from ganbuilder.evaluate.lpips import MIN_SIZE, find_files, load_lpips

    if min(real.shape[-2:]) < MIN_SIZE:
        return {"lpips_note": f"LPIPS not computed: it needs images of at least {MIN_SIZE} "
                              "pixels a side"}
    files = find_files(heads)
    if isinstance(files, str):
        return {"lpips_note": files}
    net = load_lpips(*files)
    device = fake.device
    net.to(device)
    scores = {"lpips": [], "bicubic_lpips": []}
    for start in range(0, real.shape[0], LPIPS_BATCH):
        hr = real[start:start + LPIPS_BATCH].to(device)
        with torch.no_grad():
            scores["lpips"].append(net(fake[start:start + LPIPS_BATCH].float(), hr))
            scores["bicubic_lpips"].append(net(bicubic[start:start + LPIPS_BATCH].to(device), hr))
    return {"lpips_weights": ", ".join(str(p) for p in files),
            **{k: float(torch.cat(v).mean()) for k, v in scores.items()}}
