"""A `Report` rendered: markdown (report.md), JSON (--format json), Rich tables.

    render_markdown(report)    # report.md: the header as a list, then each table
    render_rich(report)        # the same for a Rich console: [Text, Table, ...]
    report_dict(report)        # plain JSON-ready data: numbers, not formatted strings

Markdown and Rich draw the same header and tables (`rethink.results.tables`);
the JSON carries the numbers themselves, each run's deviations and fit
outcome, the data sets, the rules the verdicts apply and the paper's numbers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rethink import paper
from rethink.results.claims import RULES, fit_outcome
from rethink.results.protocol import PROTOCOL, run_deviations
from rethink.results.report import Report
from rethink.results.sources import run_source
from rethink.results.summary import chance_loss
from rethink.results.tables import report_header, report_tables
from rethink.spec.datasets import Dataset


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (numbers, not formatted strings).

    Each run also carries its `protocol_deviations` (empty: the paper's
    protocol), `final_train_acc` with `train_acc_measure` ("evaluation" or
    "window"), its `fit` outcome and its `dataset` by name; `datasets` describes
    each (`Dataset.to_dict()` with its chance level and whether the paper has
    numbers for it); `rules` holds the verdicts' constants. `folder` lists the
    folders read, `sources` describes each (with its start `dates`), `flags`
    says where they disagree, `dropped` lists the copies left out as duplicates.
    """
    data = dataclasses.asdict(report)
    data["datasets"] = [dataset_dict(d) for d in report.datasets]
    for entry, source in zip(data["sources"], report.sources, strict=True):
        entry["dates"] = source.dates
    for run, r in zip(data["runs"], report.runs, strict=True):
        run["dataset"] = r.dataset.name
        run["source"] = run_source(r, report.folder)
        run["protocol_deviations"] = list(run_deviations(r))
        run["final_train_acc"] = r.final_train_acc
        run["train_acc_measure"] = r.train_acc_measure
        run["fit"] = fit_outcome(r)
    data["rules"] = {"protocol": PROTOCOL, **RULES}
    data["paper"] = {
        "table1": [dataclasses.asdict(r) for r in paper.TABLE1],
        "figure1a_steps_to_loss": paper.FIGURE1A_STEPS_TO_LOSS,
    }
    return data


def dataset_dict(dataset: Dataset) -> dict[str, Any]:
    """A data set for --format json: its identity, chance level and paper numbers."""
    return {
        **dataset.to_dict(),
        "chance_error": dataset.chance_error,
        "chance_loss": chance_loss(dataset.num_classes),
        "has_paper_numbers": dataset.has_paper_numbers,
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    lines = [f"# rethink report: {report.folder_text}", ""]
    lines += [f"- {_md_cell(n)}" for n in report_header(report)]
    for t in report_tables(report):
        lines += ["", f"## {t.title}", ""]
        lines.append("| " + " | ".join(t.columns) + " |")
        lines.append("|" + "---|" * len(t.columns))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
        if t.note:
            lines += ["", f"_{t.note}_"]
    return "\n".join(lines) + "\n"


def render_rich(report: Report) -> list[RenderableType]:
    """The header lines, then the tables, for a Rich console."""
    tables: list[RenderableType] = [
        Text("\n".join(f"- {line}" for line in report_header(report)) + "\n")
    ]
    for t in report_tables(report):
        table = Table(
            title=t.title,
            caption=t.note or None,
            title_justify="left",
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for c in t.columns:
            table.add_column(c, overflow="fold")
        for row in t.rows:
            table.add_row(*row)
        tables.append(table)
    return tables
