"""Protocols (experiment designs), one module each; `PROTOCOLS` imports every module here on first lookup."""

from oversight.protocols.base import HEADLINE_KEYS, PROTOCOLS, ProtocolSpec, register_protocol

__all__ = ["HEADLINE_KEYS", "PROTOCOLS", "ProtocolSpec", "register_protocol"]
