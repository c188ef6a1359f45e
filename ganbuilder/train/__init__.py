"""Training: the Trainer, its events and control switches, weight averages."""
