"""Run folders: checkpoints, metrics and sample grids."""
