"""The documentation site: its generated CLI reference, its nav and its workflow.

`nox -s docs` builds the site with `mkdocs build --strict`; these tests check what the
build alone would not: that the reference generated from the Typer app covers every
command and option, that every page is reachable and every public package documented,
and that the Pages workflow builds with nox and deploys only from the default branch.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The packages the API reference documents (rethink's public layers).
API_PACKAGES = ("spec", "data", "models", "train", "run", "grid", "results", "kernel", "construct")


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mkdocs() -> dict[str, Any]:
    # mkdocs.yml may hold !!python/name tags in general; this one holds plain YAML.
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def _nav_pages(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


@pytest.fixture(scope="module")
def cli_page() -> tuple[str, Any]:
    hooks = _hooks()
    return hooks.cli_markdown(), hooks.rethink_command()


def _section(page: str, path: tuple[str, ...]) -> str:
    """The part of the page about one command: its heading up to the next heading."""
    heading = f"## `rethink {' '.join(path)}`\n"
    assert heading in page, f"no section for rethink {' '.join(path)}"
    return page.split(heading, 1)[1].split("\n## ", 1)[0]


def test_cli_reference_covers_every_command_and_option(cli_page: tuple[str, Any]) -> None:
    page, top = cli_page
    commands = list(_hooks().walk(top))
    # The commands at least (a new one appears without touching the generator).
    assert {
        "run",
        "grid",
        "plot",
        "report",
        "export",
        "bench",
        "kernel",
        "construct",
        "models",
    } <= {path[0] for path, _ in commands}
    for path, command in commands:
        section = _section(page, path)
        assert f"rethink {' '.join(path)} " in section  # the usage line
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            if param.param_type_name == "argument":
                assert (param.name or "").upper() in section, (path, param.name)
                continue
            for flag in [*param.opts, *param.secondary_opts]:
                assert re.search(rf"`[^`]*{re.escape(flag)}\b", section), (path, flag)


def test_cli_reference_shows_help_text_and_choices(cli_page: tuple[str, Any]) -> None:
    page, _ = cli_page
    grid = _section(page, ("grid",))
    # Option help, choices of an enum and a default, as `rethink grid --help` prints them.
    assert "Runs at once: a number, or auto" in grid
    assert "`--preset <paper|smoke|fig1b|table1|fig2|regularized>`" in grid
    # Table rows stay rows: no raw pipe or newline from a help text breaks the table.
    rows = [line for line in grid.splitlines() if line.startswith("| `")]
    assert rows and all(re.fullmatch(r"\| `.*` \| .* \|", row) for row in rows)
    cells = [re.sub(r"`[^`]*`", "", row) for row in rows]  # a pipe in a code span splits none
    assert all(len(re.findall(r"(?<!\\)\|", cell)) == 3 for cell in cells)


def test_every_page_is_in_the_nav_and_every_nav_page_exists() -> None:
    config = _mkdocs()
    pages = _nav_pages(config["nav"])
    generated = {_hooks().CLI_PAGE}
    # docs/figures/ holds drawn figures (and `nox -s figures`' report.md), not pages.
    on_disk = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if p.relative_to(DOCS).parts[0] != "figures"
    }
    assert set(pages) - generated == on_disk
    assert len(pages) == len(set(pages))
    assert not (DOCS / _hooks().CLI_PAGE).exists(), "the CLI reference is generated, not kept"
    assert config["strict"] is True and config["hooks"] == ["docs/hooks.py"]


def test_every_public_package_has_an_api_page() -> None:
    for name in API_PACKAGES:
        page = DOCS / "reference" / "api" / f"{name}.md"
        assert f"::: rethink.{name}\n" in page.read_text(), name
        assert (ROOT / "src" / "rethink" / name / "__init__.py").exists(), name


def test_the_pages_workflow_builds_with_nox_and_deploys_only_from_main() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "docs.yml").read_text())
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"] and "pull_request" in on
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = " ".join(step.get("run", "") for step in build["steps"])
    assert "nox==" in runs and "nox -s docs" in runs
    uses = [step.get("uses", "") for step in build["steps"] + deploy["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    assert deploy["needs"] == "build" and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    for job in (build, deploy):
        assert 0 < job["timeout-minutes"] <= 30
