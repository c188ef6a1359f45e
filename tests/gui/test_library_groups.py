"""The Layer Library lists every layer under its registry entry's group, a plugin's too."""

from __future__ import annotations

from ganbuilder.layers import LAYERS
from gui.library import LayerLibrary
from tests import plugin_layer


def test_every_layer_is_listed_under_its_entrys_group_and_a_plugins_under_its_own(qtbot):
    with plugin_layer.registered():
        library = LayerLibrary()
        qtbot.addWidget(library)
        entries = library.entries()
        for name in LAYERS.names():
            assert name in entries[LAYERS.get(name).group], name
        assert entries[plugin_layer.GROUP] == [plugin_layer.NAME]
        tooltip = library.item(plugin_layer.NAME).toolTip(0)
        assert "hidden (required): the gate's hidden features" in tooltip
    assert entries["containers"] == ["residual", "repeat"]
    assert "other" not in entries
