"""Completion offers what fits the keys around the cursor, read from the assembled schema."""

from __future__ import annotations

from ganbuilder.data.registry import SOURCES
from ganbuilder.design.completion import context_words, key_chain
from ganbuilder.layers import LAYERS
from ganbuilder.spec import spec_schema

_SOURCE = """networks:
  G:
    layers:
      - conv:
          ke
      - ba
      - conv: {out: 8, ke
data:
  source: fo
  ba
training:
  optimizer:
    ad
"""
TEXT = _SOURCE.split("\n")


def at(line: int) -> list[str] | None:
    return context_words(spec_schema(), TEXT, line, len(TEXT[line - 1]))


def test_the_keys_enclosing_the_cursor():
    assert key_chain(TEXT, 5, len(TEXT[4])) == ["networks", "G", "layers", "-", "conv"]
    assert key_chain(TEXT, 7, len(TEXT[6])) == ["networks", "G", "layers", "-", "conv"]
    assert key_chain(TEXT, 13, 4) == ["training", "optimizer"]
    assert key_chain(TEXT, 1, 0) == []


def test_after_conv_it_offers_convs_parameters():
    words = at(5)
    assert set(words) == set(LAYERS.get("conv").params)
    assert "networks" not in words and "batch_norm" not in words
    assert at(7) == words  # in a flow mapping too


def test_a_new_list_item_offers_layers_and_a_value_offers_its_choices():
    assert set(LAYERS.names()) <= set(at(6))
    assert "kernel" not in at(6)
    assert set(at(9)) == set(SOURCES.names())
    assert "batch_size" in at(10) and "conv" not in at(10)
    assert "adam" in at(13)
