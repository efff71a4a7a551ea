"""Where runs execute: locally (the default) or on SLURM (`slurm.py`)."""
