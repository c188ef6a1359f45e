"""The designer's model, without a screen: everything the app decides that is not a widget.

The spec text is the one model. The designer changes it only through planned text edits
(`text_edits`), finds which spec item a line holds and back (`text_index`), and derives every
view from it: the graphs it draws as plain nodes and edges (`graphs`), the architecture panel's
labels (`labels`), the problems' marks (`problems`), the editor's highlighting (`syntax`)
and completion words (`completion`), File > New's templates (`templates`), and the training
curves' grouping and smoothing (`curves`); files are read and saved as `spec_file` says.

The latent explorer's model lives in `latent_explorer`; it needs torch, so it is imported from
there rather than from this package, which stays torch-free.
"""

from ganbuilder.design.completion import schema_words, word_before
from ganbuilder.design.curves import Smoother, ema, is_smoothed, plot_group
from ganbuilder.design.graphs import Node, flow_nodes, layer_graph, skip_edges
from ganbuilder.design.labels import layer_brief, shorten
from ganbuilder.design.problems import count_problems, problem_marks, problem_where
from ganbuilder.design.spec_file import decode_spec, encode_spec
from ganbuilder.design.syntax import find_comment, highlight
from ganbuilder.design.templates import SPECS_DIR, Template, templates
from ganbuilder.design.text_edits import (
    Edit,
    LineEdit,
    TextChange,
    TextEdit,
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
    "SPECS_DIR",
    "Edit",
    "Item",
    "LineEdit",
    "Node",
    "Smoother",
    "Template",
    "TextChange",
    "TextEdit",
    "TextIndex",
    "count_problems",
    "decode_spec",
    "ema",
    "encode_spec",
    "find_comment",
    "flow_nodes",
    "format_value",
    "highlight",
    "is_smoothed",
    "item_end",
    "layer_brief",
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
    "plot_group",
    "problem_marks",
    "problem_where",
    "scalar_schema",
    "scalar_span",
    "schema_words",
    "shorten",
    "skip_edges",
    "templates",
    "word_before",
]
