"""Every `oversight ...` line in the README's code blocks works as typed from a directory that is not
the checkout: configs and runs are checked to the last step before any work (`--print-config`,
`--dry-run`), SLURM options are checked without submitting, and the rest must parse."""

from __future__ import annotations

import re
import shlex

import pytest
from cluster_helpers import ROOT
from fault_helpers import cli


def readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("oversight "):
                commands.append(shlex.split(line)[1:])
    return commands


def checked_form(argv: list[str]) -> list[str] | None:
    """The same command stopped before it does work, or None when only parsing can be checked."""
    argv = [a for a in argv if a not in ("--launcher", "slurm", "--wait")]  # the cluster tests submit for real
    if argv[0] == "run":
        return [a for a in argv if not a.startswith("slurm.")] + ["--print-config"]
    if argv[0] == "sweep":
        return [*argv, "--dry-run"] if "--dry-run" not in argv else argv
    if argv[0] in ("list", "configs"):
        return argv
    return None  # compare, show, bench: they need finished runs or minutes


def test_the_readme_has_commands_to_check():
    kinds = {argv[0] for argv in readme_commands()}
    assert {"run", "sweep", "compare", "show", "list", "configs", "bench"} <= kinds


@pytest.mark.parametrize("argv", readme_commands(), ids=" ".join)
def test_readme_command_works_from_any_directory(argv, tmp_path, monkeypatch):
    from oversight.cli import parse
    from oversight.launch.slurm import SlurmConfig, split_slurm_overrides

    monkeypatch.chdir(tmp_path)
    if "--help" in argv:
        with pytest.raises(SystemExit) as done:
            parse(argv)
        assert done.value.code == 0
        return
    args = parse(argv)  # flags and overrides as typed
    if "--launcher" in argv:
        SlurmConfig.from_dict(split_slurm_overrides(list(args.overrides))[1])  # slurm.* keys and types
    if argv[0] == "show":  # the README names the default run; a change of defaults renames it
        from oversight.config import DEFAULT_CONFIG, load_config
        from oversight.experiment import default_run_name

        assert argv[1] == default_run_name(load_config(DEFAULT_CONFIG, []))
    checked = checked_form(argv)
    if checked is not None:
        code, out, err = cli(*checked)
        assert code == 0, err[-2000:]
