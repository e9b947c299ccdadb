"""The parent of a benchmark: one worker process per backend, one JSON document.

    doc = run(settings, argv=sys.argv, on_backend=lambda name: print(name, "..."))
    doc["results"]                 # one row per (backend, model, precision)
    run_backend(settings, "torch") # {"environment", "results", "error"} of one worker

Each backend runs in its own process (`python -m rethink.bench SETTINGS OUT`,
`rethink.bench.worker`) because Keras fixes its backend at import; a backend
whose process fails becomes an error row, not a crash. The document (bench.json,
FORMAT 1) holds the date, the command, the host, the settings, the paper's run
length, each backend's environment and wall time, and the rows.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rethink.base.platform import host_info
from rethink.base.process import run_python
from rethink.bench.estimates import PAPER_STEPS
from rethink.bench.settings import BenchSpec

FORMAT = 1


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def run_backend(settings: BenchSpec, backend: str) -> dict[str, Any]:
    """Run the worker for one backend in a new process; never raises for its failure.

    Returns {"environment": ..., "results": [...], "error": None | "message"}.
    """
    with tempfile.TemporaryDirectory(prefix="rethink-bench-") as tmp:
        settings_path, out_path = Path(tmp, "settings.json"), Path(tmp, "out.json")
        settings_path.write_text(json.dumps(settings.to_dict()))
        proc = run_python(["-m", "rethink.bench", str(settings_path), str(out_path)], backend)
        if proc.returncode == 0 and out_path.is_file():
            doc = json.loads(out_path.read_text())
            return {"environment": doc["environment"], "results": doc["results"], "error": None}
    error = f"worker exited with code {proc.returncode}: {_last_line(proc.stderr + proc.stdout)}"
    rows = [{"backend": backend, "model": None, "precision": None, "error": error}]
    return {"environment": None, "results": rows, "error": error}


def run(
    settings: BenchSpec,
    argv: Sequence[str] = (),
    on_backend: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every backend of `settings` in its own process; the JSON document of the bench.

    `on_backend(name)` is called before each backend starts (progress display).
    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    backends: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    for backend in settings.backends:
        if on_backend is not None:
            on_backend(backend)
        t0 = time.perf_counter()
        out = run_backend(settings, backend)
        backends[backend] = {
            "environment": out["environment"],
            "error": out["error"],
            "wall_s": round(time.perf_counter() - t0, 2),
        }
        results.extend(out["results"])
    return {
        "format": FORMAT,
        "date": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(argv),
        "host": host_info(),
        "settings": settings.to_dict(),
        "paper_steps": PAPER_STEPS,
        "backends": backends,
        "results": results,
    }


def failed_backends(doc: dict[str, Any]) -> list[str]:
    """The backends with an error row in a bench document, sorted."""
    return sorted({str(r["backend"]) for r in doc["results"] if r.get("error")})
