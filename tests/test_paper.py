"""rethink.paper: the published numbers as data, checked against the paper summary (../shared/docs/paper.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rethink import paper
from rethink.models import MODELS

PAPER_MD = Path(__file__).resolve().parents[2] / "shared" / "docs" / "paper.md"
NAMES = {
    "Inception": "inception",
    "Inception w/o BatchNorm": "inception_no_bn",
    "AlexNet": "alexnet",
    "MLP 3x512": "mlp_3x512",
    "MLP 1x512": "mlp_1x512",
}


@pytest.fixture(scope="module")
def paper_text() -> str:
    if not PAPER_MD.is_file():
        pytest.skip(f"docs/paper.md not found at {PAPER_MD}")
    return PAPER_MD.read_text()


def _table1_from_markdown(text: str) -> list[paper.Table1Row]:
    section = text.split("Table 1 (train / test accuracy", 1)[1]
    rows: list[paper.Table1Row] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("model", "---"):
            if rows:
                break
            continue
        name, crop, wd, train, test = cells
        random = name.endswith(", random labels")
        model = NAMES[name.removesuffix(", random labels")]
        corruption = "random_labels" if random else "true_labels"
        rows.append(
            paper.Table1Row(
                model, corruption, crop == "yes", wd == "yes", float(train), float(test)
            )
        )
    return rows


def test_table1_matches_paper_md(paper_text: str) -> None:
    assert list(paper.TABLE1) == _table1_from_markdown(paper_text)


def test_figure1a_reproduction_matches_paper_md(paper_text: str) -> None:
    text = " ".join(paper_text.split())
    found = re.findall(
        r"([\d.]+)k (?:steps on )?(true labels|shuffled pixels|gaussian|random pixels|random labels)",
        text,
    )
    parsed = {name.replace(" ", "_"): round(float(k) * 1000) for k, name in found}
    assert parsed == paper.FIGURE1A_STEPS_TO_LOSS
    acc = re.search(r"([\d.]+)% test accuracy on true labels", text)
    assert acc is not None
    assert float(acc.group(1)) / 100 == pytest.approx(paper.FIGURE1A_TRUE_LABELS_TEST_ACC)


def test_table1_rows_are_unique_and_found_by_their_settings() -> None:
    keys = [(r.model, r.corruption, r.random_crop, r.weight_decay) for r in paper.TABLE1]
    assert len(set(keys)) == len(keys)
    for row in paper.TABLE1:
        assert row.model in MODELS
        assert paper.table1_row(row.model, row.corruption, row.random_crop, row.weight_decay) is row


def test_table1_row_is_none_for_settings_the_paper_lacks() -> None:
    assert (
        paper.table1_row("mlp_1x512", "true_labels", random_crop=True, weight_decay=False) is None
    )
    assert (
        paper.table1_row("alexnet", "random_labels", random_crop=False, weight_decay=True) is None
    )
    assert paper.table1_row("alexnet", "gaussian", random_crop=False, weight_decay=False) is None
