"""The `tensorboard` logger: event files under tensorboard/ in the run folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ganbuilder.errors import UserError
from ganbuilder.loggers.registry import Logger, RunInfo, logger

if TYPE_CHECKING:
    import numpy as np

TENSORBOARD_DIR = "tensorboard"


def hparams(params: dict) -> dict[str, int | float | str | bool]:
    """A spec's params as TensorBoard hparams (values other than scalars as text)."""
    return {str(k): v if isinstance(v, (int, float, str, bool)) else str(v)
            for k, v in (params or {}).items()}


def tensorboard_writer() -> type:
    """torch's SummaryWriter, or a UserError saying how to install TensorBoard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError("training.log: 'tensorboard' needs the tensorboard package: "
                        "pip install 'ganbuilder[tensorboard]' (or pip install tensorboard)"
                        ) from None
    return SummaryWriter


@logger("tensorboard", package="tensorboard", extra="tensorboard",
        description="tensorboard/ in the run folder: scalars, sample grids, params as "
                    "hparams")
class TensorBoardLogger(Logger):
    """Every scalar under its metric name, each sample grid as the image `samples`, the
    spec's `params` as hparams; a resumed run purges the events after its step."""

    def __init__(self) -> None:
        self.writer: Any = None
        self._writer_class = tensorboard_writer()  # a missing package fails before training

    def start(self, run: RunInfo) -> None:
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        purge = run.start_step if run.start_step > 0 else None
        self.writer = self._writer_class(str(run.run_dir / TENSORBOARD_DIR), purge_step=purge)
        values = hparams(run.params)
        if values and run.start_step == 0:
            # Into this run's own event file (add_hparams would open a second run folder).
            for summary in hparams_summary(values, {}):
                self.writer.file_writer.add_summary(summary)
        self.writer.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.writer.add_scalar(key, value, step)

    def image(self, step: int, image: np.ndarray) -> None:
        self.writer.add_image("samples", image, step, dataformats="HWC")

    def finish(self, status: str) -> None:
        self.writer.close()
