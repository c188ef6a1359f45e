"""Schema fragments for keys that several sources share."""

from __future__ import annotations

ROOT: dict = {
    "type": "string",
    "minLength": 1,
    "description": "Folder holding the data; a relative path starts at the spec file's folder.",
}


def image_size(default: int) -> dict:
    """The `image_size` key: side of the square images in a batch."""
    return {
        "type": "integer",
        "minimum": 1,
        "default": default,
        "description": "Side length in pixels of the square images a batch carries.",
    }


def channels(default: int) -> dict:
    """The `channels` key: 1 (grayscale) or 3 (RGB)."""
    return {
        "type": "integer",
        "enum": [1, 3],
        "default": default,
        "description": "Image channels: 1 for grayscale, 3 for RGB (grayscale data is replicated).",
    }
