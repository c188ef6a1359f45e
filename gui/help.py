"""Help > Getting started: one short page on how the designer works."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GETTING_STARTED = """
<h2>Getting started</h2>
<p>A spec is one YAML file; the text is the only source of truth. Every panel is drawn from
it, and every edit made in a panel (the property form, a fix, an inserted layer) is an ordinary
text edit that Undo takes back.</p>
<ol>
<li><b>Start from a template.</b> <i>File &gt; New from template</i> opens a known-good spec
(DCGAN, pix2pix, CycleGAN, …). Save it where your data lives: relative data paths start at the
spec's folder.</li>
<li><b>Edit the text.</b> The spec is checked as you type. Problems are listed in the
<i>Problems</i> panel and marked on their lines; click one to jump there. A problem with a
known fix (<i>did you mean …?</i>) has a button that applies it. Ctrl+Space completes the key
or value that fits where the cursor is.</li>
<li><b>Check the networks.</b> <i>Architecture</i> lists every layer with its output shape and
parameter count; <i>Layer graph</i> and <i>Data flow</i> draw one network and one training
iteration. Wheel to zoom, drag to pan, <i>Fit</i> (Ctrl+0) to see everything; hover a node
for its parameters.</li>
<li><b>Build on the canvas.</b> <i>File &gt; New</i> (Ctrl+N) starts a small spec whose
critic D is one layer. In the <i>Layer graph</i>, drag an entry of the <i>Layer library</i>
(on the left) between two nodes to insert it; drag a node to move it; Delete removes the
selected node; Ctrl+C / Ctrl+V copy and paste; drag a node's output port onto a later
<code>concat</code> or <code>add</code> to wire a skip. Inside a block or a repeat a gesture
edits the block's definition, and says so: every use of the block changes. Each gesture is
a text edit, which Undo (Ctrl+Z) takes back.</li>
<li><b>Change a layer.</b> Put the cursor in a layer (or click it in a graph) and use the
<i>Properties</i> panel, or <i>Layer &gt; Insert</i> to add one after it.</li>
<li><b>Train.</b> <i>Train &gt; Start</i> (F5) trains into
<code>runs/&lt;name&gt;/&lt;time&gt;</code> next to the spec. The <i>Training</i> panel
shows the curves: the losses, D's accuracy on real and on fake (0.5 is chance), the learning
rates, and any <code>training.eval</code> figures; hover for values. Its other tabs hold the
sample grids, the latent explorer and past runs.
Pause (F6) saves a checkpoint; a run started here resumes with
<code>ganbuilder run --resume</code> and the reverse.</li>
</ol>
<p>The same spec runs headless: <code>ganbuilder validate spec.yaml</code>,
<code>ganbuilder run spec.yaml</code>.</p>
"""


class HelpDialog(QDialog):
    """A small window with the getting-started page."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Getting started — ganbuilder designer")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(GETTING_STARTED)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(620, 560)
