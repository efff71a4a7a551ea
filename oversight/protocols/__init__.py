"""Protocols: each module registers one experiment design (import them here so they register)."""

from oversight.protocols import w2s  # noqa: F401  (registers "w2s")
from oversight.protocols.base import HEADLINE_KEYS, PROTOCOLS, ProtocolSpec, register_protocol

__all__ = ["HEADLINE_KEYS", "PROTOCOLS", "ProtocolSpec", "register_protocol"]
