"""One table renderer for every output format: aligned text for the console, Markdown, LaTeX
(booktabs, for a paper) and CSV. Cells arrive already formatted (strings) except for CSV, where
numbers stay numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

FORMATS = ("text", "md", "latex", "csv")


def render(columns: list[str], rows: list[list[Any]], fmt: str = "text", numeric_from: int = 0, align: str = "") -> str:
    """`columns` and `rows` as `fmt`; columns from index `numeric_from` on are right-aligned (text, md,
    LaTeX), or `align` spells each column out (`"lrll"`: left, right, left, left)."""
    align = align or "".join("r" if i >= numeric_from else "l" for i in range(len(columns)))
    if fmt == "csv":
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows([columns, *rows])
        return out.getvalue()
    cells = [[str(c) for c in columns], *[["" if c is None else str(c) for c in row] for row in rows]]
    if fmt == "md":
        lines = ["| " + " | ".join(cells[0]) + " |",
                 "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells[1:]])
    if fmt == "latex":
        spec = align
        escape = str.maketrans({"_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"})
        body = [" & ".join(c.translate(escape) for c in row) + r" \\" for row in cells]
        return "\n".join([rf"\begin{{tabular}}{{{spec}}}", r"\toprule", body[0], r"\midrule", *body[1:], r"\bottomrule",
                          r"\end{tabular}"])
    if fmt != "text":
        raise ValueError(f"table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align)).rstrip() for row in cells]
    return "\n".join([lines[0], "-" * max(map(len, lines)), *lines[1:]])
