"""Quote verification: a quoted span counts as verified when, normalized (case, punctuation,
whitespace), it occurs in the passage. The judge cannot read the passage, so every quote it sees
is marked verified or unverified, as in Khan et al. 2024 ("Debating with more persuasive LLMs
leads to more truthful answers").
"""

from __future__ import annotations

import re

_QUOTE = re.compile(r'"([^"]{3,}?)"|“([^”]{3,}?)”|<quote>(.{3,}?)</quote>', re.DOTALL)
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def find_quotes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, quoted text) of every quote in `text`."""
    return [(m.start(), m.end(), next(g for g in m.groups() if g is not None)) for m in _QUOTE.finditer(text)]


def is_verified(quote: str, passage: str) -> bool:
    q = normalize(quote)
    return bool(q) and f" {q} " in f" {normalize(passage)} "


def mark_quotes(text: str, passage: str) -> tuple[str, int, int]:
    """`text` with each quote tagged for the judge; also (verified, total) counts."""
    out, last, verified, quotes = [], 0, 0, find_quotes(text)
    for start, end, quote in quotes:
        ok = is_verified(quote, passage)
        verified += ok
        out.append(text[last:start])
        out.append(f'"{quote}" (verified quote)' if ok else f'"{quote}" (UNVERIFIED: not in the passage)')
        last = end
    out.append(text[last:])
    return "".join(out), verified, len(quotes)
