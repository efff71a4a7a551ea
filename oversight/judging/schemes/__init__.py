"""Judging schemes, one file each (direct, consultancy, debate, critique, ...); `SCHEMES` imports them all."""
