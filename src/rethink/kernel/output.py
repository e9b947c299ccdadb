"""What `rethink kernel --out DIR` writes: kernel.json, and the norm figure of a sweep.

    paths = write_report(report, out)   # [out/kernel.json, out/kernel_norm.png, ...pdf]

kernel.json is the report's `to_dict()`, written atomically; a sweep (more than
one labelling) adds the norm figure (`rethink.kernel.figure`: matplotlib, imported
only then).
"""

from __future__ import annotations

from pathlib import Path

from rethink.kernel.report import KernelReport

REPORT_FILE = "kernel.json"
FIGURE_STEM = "kernel_norm"


def write_report(report: KernelReport, out: Path) -> list[Path]:
    """Write out/kernel.json, and for a sweep the norm figure; return the paths written."""
    from rethink.run.folder import write_json

    path = out / REPORT_FILE
    write_json(path, report.to_dict())
    paths = [path]
    if len(report.results) > 1:
        from rethink.kernel.figure import norm_figure, save_figure

        paths += save_figure(norm_figure(report), out / FIGURE_STEM)
    return paths
