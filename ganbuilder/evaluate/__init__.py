"""Evaluating trained models offline: the project's own classifiers, or Inception-v3 from a
weights file the user provides (nothing is downloaded).

`evaluate_checkpoint(path)` rebuilds a model from its checkpoint and runs the first registered
evaluator (`registry.EVALUATORS`) that applies to its spec, returning a flat JSON-able dict
whose `kind` says which ran. One module per job: `dispatch`, `points` (2D), `digits`,
`translation`, `inception_images` (with `folder_classes` on labelled data); `draw` holds the
sampling they share; `during_training` is the `training.eval` sink that `ganbuilder run`
chains; `report` prints a result for people.

- `toy2d`: a generator of 2D points on `ring8` / `grid25`: modes covered and % high-quality
  samples (VEEGAN convention, `ganbuilder.evaluate.toy2d`).
- `digits`: an unconditional image generator on `digits`: FD against held-out digits in the
  feature space of the project's own digit classifier (not comparable to Inception FID), digit
  score, class coverage (`ganbuilder.evaluate.images`).
- `conditional_digits`: the same, plus per-class accuracy of samples generated for each label of
  the categorical latent the generator consumes.
- `infogan_digits`: the `digits` metrics for a generator whose categorical latent is an InfoGAN
  code (named by a `mutual_info` term) rather than a label, plus, from samples spread evenly
  over the code's values, code purity, the digit each value draws and how many distinct
  digits the values cover.
- `inception`: an image generator on any other image data (a folder, MNIST files): FID, KID,
  precision/recall and density/coverage in Inception-v3 features against real images
  (`ganbuilder.evaluate.inception_images`; the weights file is never downloaded).
- `paired_translation`: L1 and PSNR of G(A) against B on held-out pairs, and `label_kept/AB`
  when the data carries labels.
- `super_resolution`: PSNR and SSIM of an SR model's output against held-out HR images,
  beside bicubic upsampling of the LR input (`ganbuilder.evaluate.superres`).
- `domain_translation`: a multi-domain generator (StarGAN) on data labelled by domain:
  held-out images translated to random other domains, the share a domain classifier assigns
  to the requested domain, and (with a `digit` per image) the share whose digit is kept.
- `unpaired_translation`: `label_kept/AB` (and `label_kept/BA` when the spec has both
  generators): the share of translations that a classifier trained only on the target domain
  labels as the source image's label.
"""

from ganbuilder.evaluate import (  # noqa: F401  (registration)
    digits,
    domains,
    inception_images,
    points,
    superres,
    translation,
)
from ganbuilder.evaluate.dispatch import evaluate_checkpoint
from ganbuilder.evaluate.registry import EVALUATORS, Evaluator, Job, evaluator

__all__ = ["EVALUATORS", "Evaluator", "Job", "evaluate_checkpoint", "evaluator"]
