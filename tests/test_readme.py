"""The README is the front door: its commands are what CI runs, its settings are all real."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from filmld.config import SETTINGS_HELP, Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_with_help_and_in_the_readme():
    names = [f.name for f in fields(Settings)]
    assert set(names) == set(SETTINGS_HELP)
    missing = [n for n in names if f"FILMLD_{n.upper()}" not in README]
    assert not missing, f"settings missing from README: {missing}"


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^(bash \.ci/run)$", README, flags=re.MULTILINE)
    assert commands, "README must give the test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest" in ci


def test_every_dependency_is_explained_in_the_readme():
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    deps = re.findall(r'"([A-Za-z0-9_.-]+)>=', block)
    assert deps
    for dep in deps:
        assert re.search(rf"\|\s*{re.escape(dep)}\b", README, flags=re.IGNORECASE), dep


def test_the_settings_table_gives_each_default_and_help_as_config_has_them():
    rows = {name.lower(): (default, help_) for name, default, help_ in re.findall(
        r"^\| `FILMLD_(\w+)` \| `([^`]*)` \| (.*) \|$", README, flags=re.MULTILINE)}
    defaults = Settings()
    assert set(rows) == {f.name for f in fields(Settings)}
    for field in fields(Settings):
        value = getattr(defaults, field.name)
        if isinstance(value, Path):  # the checkout's folders, whatever the working directory
            value = "<checkout>/" + value.relative_to(ROOT).as_posix()
        expected = "(empty)" if value == "" else str(value)
        assert rows[field.name] == (expected, SETTINGS_HELP[field.name]), field.name
