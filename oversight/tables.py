"""One table renderer for every output format: aligned text for the console, Markdown, LaTeX
(booktabs, for a paper) and CSV. Cells arrive already formatted (strings) except for CSV, where
numbers stay numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

FORMATS = ("text", "md", "latex", "csv")


def render(columns: list[str], rows: list[list[Any]], fmt: str = "text", numeric_from: int = 0) -> str:
    """`columns` and `rows` as `fmt`; columns from index `numeric_from` on are right-aligned (text, LaTeX)."""
    if fmt == "csv":
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows([columns, *rows])
        return out.getvalue()
    cells = [[str(c) for c in columns], *[["" if c is None else str(c) for c in row] for row in rows]]
    if fmt == "md":
        lines = ["| " + " | ".join(cells[0]) + " |",
                 "|" + "|".join("---:" if i >= numeric_from else "---" for i in range(len(columns))) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells[1:]])
    if fmt == "latex":
        spec = "".join("r" if i >= numeric_from else "l" for i in range(len(columns)))
        escape = str.maketrans({"_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"})
        body = [" & ".join(c.translate(escape) for c in row) + r" \\" for row in cells]
        return "\n".join([rf"\begin{{tabular}}{{{spec}}}", r"\toprule", body[0], r"\midrule", *body[1:], r"\bottomrule",
                          r"\end{tabular}"])
    if fmt != "text":
        raise ValueError(f"table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) if i >= numeric_from else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])
