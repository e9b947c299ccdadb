"""Numbers as text, the same everywhere (live table, report, bench, run summaries).

    percent(0.8675)        # '86.8%'      percent(0.8675, 2) -> '86.75%'
    number(25000.0)        # '25,000'     number(1.5, 2)     -> '1.50'
    factor(3.105)          # '3.11x'      signed(-0.5)       -> '-0.50'
    duration(3723)         # '1:02:03'    duration(125)      -> '2:05'

Missing values (None, or not a finite number) print as `missing` ("-" unless
asked otherwise); `as_number(x)` is that check on its own (a float, or None).
Pure Python.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "-"


def as_number(x: Any) -> float | None:
    """`x` as a float if it is a finite number (not a bool), else None: how every
    number read back from a file is checked before it is printed or computed with."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def percent(x: Any, digits: int = 1, missing: str = MISSING) -> str:
    v = as_number(x)
    return missing if v is None else f"{100 * v:.{digits}f}%"


def number(x: Any, digits: int = 0, missing: str = MISSING) -> str:
    v = as_number(x)
    return missing if v is None else f"{v:,.{digits}f}"


def factor(x: Any, missing: str = MISSING) -> str:
    v = as_number(x)
    return missing if v is None else f"{v:.2f}x"


def signed(x: Any, missing: str = MISSING) -> str:
    v = as_number(x)
    return missing if v is None else f"{v:+.2f}"


def duration(seconds: Any, missing: str = MISSING) -> str:
    """'1:02:03' (hours), '2:03' (minutes and seconds)."""
    v = as_number(seconds)
    if v is None or v < 0:
        return missing
    s = round(v)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
