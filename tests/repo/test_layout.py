"""The source tree's shape (README "Layout"): module sizes, and tests that mirror the packages."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "rethink"
MODULE_LINES = 500  # any module in src/
CLI_LINES = 250  # a module of rethink.cli: it parses and wires


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_module_is_over_500_lines_and_no_cli_module_over_250() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {n} lines (at most {limit})"
        for path in sorted(SRC.rglob("*.py"))
        for limit in [CLI_LINES if path.parent.name == "cli" else MODULE_LINES]
        if (n := _lines(path)) > limit
    ]
    assert not too_long, "split these modules:\n" + "\n".join(too_long)


def test_every_test_file_sits_in_the_folder_of_the_package_it_tests() -> None:
    # tests/<package>/... for rethink.<package>; top level only for top-level modules.
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py")}
    stray = [
        path.name
        for path in sorted((ROOT / "tests").glob("test_*.py"))
        if path.stem.removeprefix("test_") not in modules
    ]
    assert not stray, f"move into tests/<package>/: {stray}"
    folders = {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").exists()}
    unknown = folders - packages - {"helpers", "repo"}
    assert not unknown, f"test folders with no package of that name: {sorted(unknown)}"
