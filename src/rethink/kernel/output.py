"""What `rethink kernel --out DIR` writes: kernel.json, and the norm figure of a sweep.

    paths = write_report(report, out)   # [out/kernel.json, out/kernel_norm.png, ...pdf]

kernel.json is the report's `to_dict()`, written atomically; a sweep (more than
one labelling) adds the norm figure (`rethink.kernel.figure`: matplotlib, imported
only then). The patch network's state (the training split's ZCA mean and matrix,
the filters: `report.state`) goes to kernel_features.npz beside it, which
kernel.json names (`state_file`), so the test split can be whitened and
featurized again exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rethink.kernel.report import KernelReport

REPORT_FILE = "kernel.json"
STATE_FILE = "kernel_features.npz"
FIGURE_STEM = "kernel_norm"


def write_report(report: KernelReport, out: Path) -> list[Path]:
    """Write out/kernel.json, and for a sweep the norm figure; return the paths written."""
    from rethink.run.folder import write_json

    paths = []
    data = report.to_dict()
    if report.state:
        from rethink.base.atomic import write_atomically

        state = out / STATE_FILE
        write_atomically(state, lambda f: np.savez_compressed(f, **report.state))
        data["state_file"] = STATE_FILE
        paths.append(state)
    path = out / REPORT_FILE
    write_json(path, data)
    paths.insert(0, path)
    if len(report.results) > 1:
        from rethink.kernel.figure import norm_figure, save_figure

        paths += save_figure(norm_figure(report), out / FIGURE_STEM)
    return paths
