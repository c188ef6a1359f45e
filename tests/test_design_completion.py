"""Editor completion words come from the assembled schema, so plugins' names are offered too."""

from __future__ import annotations

from ganbuilder.design import schema_words, word_before
from ganbuilder.layers import LAYERS
from ganbuilder.losses import LOSSES
from ganbuilder.spec import spec_schema


def test_schema_words_hold_every_layer_loss_and_section():
    words = schema_words(spec_schema())
    assert words == sorted(set(words))
    assert set(LAYERS.names()) <= set(words)
    assert set(LOSSES) <= set(words)
    assert {"networks", "objectives", "forward", "latent", "training"} <= set(words)


def test_enum_values_that_are_names_are_words():
    schema = {"properties": {"mode": {"enum": ["slerp", "two words", 3]}}}
    assert schema_words(schema) == ["mode", "slerp"]


def test_the_word_before_the_cursor():
    assert word_before("  - leaky_re") == "leaky_re"
    assert word_before("x: conv2") == "conv2"
    assert word_before("x: 2") == ""
    assert word_before("") == ""
