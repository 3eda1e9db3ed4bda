"""The README is the front door: its commands are what CI runs, its settings are all real."""

from __future__ import annotations

import re
import sys
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


def _declared_dependencies() -> set[str]:
    """Every requirement of pyproject.toml: the package's, the test and the bench extras."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    project = pyproject.split("[project]", 1)[1].split("[project.scripts]", 1)[0]
    return {name.lower() for name in re.findall(r'^\s*"([A-Za-z0-9_.-]+)>=', project,
                                                 flags=re.MULTILINE)}


def test_the_dependency_table_and_pyproject_name_the_same_packages():
    table = README.split("### Dependencies and why", 1)[1]
    named = set()
    for cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.MULTILINE)[1:]:
        cell = re.sub(r"\(.*?\)", "", cell)
        named |= {name.strip().lower() for name in cell.split(",") if name.strip()}
    assert named == _declared_dependencies()


def test_every_requirement_has_a_lower_bound():
    pyproject = (ROOT / "pyproject.toml").read_text()
    project = pyproject.split("[project]", 1)[1].split("[project.scripts]", 1)[0]
    quoted = re.findall(r'^\s*"([^"]+)"', project, flags=re.MULTILINE)
    requirements = [q for q in quoted if re.match(r"[A-Za-z0-9_.-]+\s*[<>=!~]", q)
                    or re.fullmatch(r"[A-Za-z0-9_.-]+", q)]
    assert requirements
    assert all(">=" in r for r in requirements), requirements


def test_every_package_the_code_imports_is_declared():
    statement = re.compile(r"^\s*(?:from ([A-Za-z_]\w*)\S* import|import ([A-Za-z_]\w*))",
                           flags=re.MULTILINE)
    imported = set()
    for source in (ROOT / "src" / "filmld").rglob("*.py"):
        imported |= {a or b for a, b in statement.findall(source.read_text())}
    third_party = imported - set(sys.stdlib_module_names) - {"filmld", "__future__"}
    assert third_party and third_party <= _declared_dependencies(), third_party


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


def test_the_formats_a_query_example_lists_all_fit_its_query():
    """`filmld query 'ASK ...' --format json   # table, json, csv, tsv, xml` named tsv,
    which an ASK query refuses (exit 2)."""
    from filmld.query_output import choose_output
    from filmld.sparql import analyse

    examples = re.findall(r"^\.venv/bin/filmld query '([^']+)' --format \w+ +# (.+)$", README,
                          flags=re.MULTILINE)
    assert len(examples) == 2
    for query, comment in examples:
        kind = analyse(query, max_length=100_000, base="http://127.0.0.1:8000/").kind
        listed = re.findall(r"\b(table|json|csv|tsv|xml|ttl|nt|jsonld|rdf)\b",
                            comment.split("(")[0])
        assert listed
        for name in listed:
            choose_output(kind, name)  # ValueError when the format does not fit


def test_the_file_a_load_example_reads_exists_or_an_earlier_command_writes_it():
    """The tour's `filmld load films.nt.gz` came before any command that makes films.nt.gz
    (the generator was only named later, under "Running at scale")."""
    for match in re.finditer(r"^\.venv/bin/filmld load (\S+)", README, flags=re.MULTILINE):
        name = match.group(1)
        before = README[:match.start()]
        assert (ROOT / name).exists() or re.search(rf"--out {re.escape(name)}\b", before), name
