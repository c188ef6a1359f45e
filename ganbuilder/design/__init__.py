"""The designer's model, without a screen: everything the app decides that is not a widget.

The spec text is the one model; the designer changes it only through planned text edits
(`text_edits`), finds which spec item a line holds and back (`text_index`), lays out the
graphs it draws as plain nodes and edges (`graphs`), and offers the words the format knows
(`completion`). The latent explorer's model lives in `latent_explorer`;
it needs torch, so it is imported from there rather than from this package.
"""

from ganbuilder.design.completion import schema_words, word_before
from ganbuilder.design.graphs import Node, flow_nodes, layer_graph, skip_edges
from ganbuilder.design.text_edits import (
    Edit,
    LineEdit,
    format_value,
    item_end,
    layer_item,
    layer_line,
    new_layer_params,
    next_line_indent,
    plan_delete,
    plan_edit,
    plan_insert,
    plan_move,
    plan_toggle_comment,
    scalar_schema,
    scalar_span,
)
from ganbuilder.design.text_index import Item, TextIndex

__all__ = [
    "Edit",
    "Item",
    "LineEdit",
    "Node",
    "TextIndex",
    "flow_nodes",
    "format_value",
    "item_end",
    "layer_graph",
    "layer_item",
    "layer_line",
    "new_layer_params",
    "next_line_indent",
    "plan_delete",
    "plan_edit",
    "plan_insert",
    "plan_move",
    "plan_toggle_comment",
    "scalar_schema",
    "scalar_span",
    "schema_words",
    "skip_edges",
    "word_before",
]
