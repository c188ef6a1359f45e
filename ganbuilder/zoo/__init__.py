"""Importing other projects' checkpoints: the layout registry (registry.py) and one module per
layout, each imported here to register it (a plugin registers its own the same way)."""

from ganbuilder.zoo import biggan, cut, cyclegan, dcgan, esrgan, pix2pix, stylegan2  # noqa: F401  (registration)
from ganbuilder.zoo.registry import LAYOUTS, Extra, Layout, NetworkMap, Rule, register

__all__ = ["LAYOUTS", "Extra", "Layout", "NetworkMap", "Rule", "register"]
