"""An evaluation result as text for people: the protocol a score depends on, then the scores.

`ganbuilder evaluate --json` prints the same dict as JSON instead.
"""

from __future__ import annotations

from typing import Any

# What a score depends on (how it was measured), as opposed to the scores themselves.
PROTOCOL = ("checkpoint", "spec", "step", "kind", "source", "tensor", "weights", "seed", "fake",
            "n", "real", "n_real", "protocol", "features", "inception_weights", "preprocess",
            "listing", "compares_with", "kid_subsets",
            "kid_subset_size", "pr_k", "dc_k", "held_out", "real_test_images",
            "classifier", "classifier_accuracy", "label", "code", "note", "lpips_weights",
            "lpips_note", "seconds")


def format_report(result: dict[str, Any]) -> str:
    """Two aligned sections, `protocol` and `scores`, one `key: value` line each."""
    protocol = [k for k in PROTOCOL if k in result]
    scores = [k for k in result if k not in PROTOCOL]
    width = max(map(len, result), default=0)
    lines = ["protocol:"]
    lines += [f"  {k:<{width}}  {_text(result[k])}" for k in protocol]
    lines.append("scores:")
    lines += [f"  {k:<{width}}  {_text(result[k])}" for k in scores]
    return "\n".join(lines)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "n/a"
    return str(value)
