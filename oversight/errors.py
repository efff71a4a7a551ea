"""User-facing errors: each carries a one-line message that names the problem.

The CLI prints `error: <message>` for any `OversightError` and exits non-zero; anything
else is a bug and keeps its traceback.
"""


class OversightError(Exception):
    """Base class for problems caused by input (config, data, models, cache), not by bugs."""


class ConfigError(OversightError):
    """Unknown key, wrong type or invalid value in a run config."""


class DataError(OversightError):
    """A dataset is missing, empty, lacks a column or has labels outside its class set."""


class ModelError(OversightError):
    """A model name resolves nowhere (offline) or its weights cannot be loaded."""


class CacheError(OversightError):
    """A cached stage output is corrupt or incomplete."""


class TrainingError(OversightError):
    """Training diverged (a non-finite loss or gradient); the stage is not committed."""
