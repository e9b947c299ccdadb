"""rethink.base.text: the one way numbers become text."""

from __future__ import annotations

from rethink.base.text import duration, factor, number, percent, signed


def test_duration_is_clock_style_and_missing_values_say_so() -> None:
    assert duration(59.6) == "1:00"
    assert duration(3725) == "1:02:05"
    assert duration(None) == "-" and duration(float("nan")) == "-" and duration(-1) == "-"
    assert duration(None, missing="") == ""


def test_numbers_percent_factor_and_signed() -> None:
    assert percent(0.86754) == "86.8%" and percent(0.86754, 2) == "86.75%"
    assert number(25_000.4) == "25,000" and number(1.5, 2) == "1.50"
    assert factor(3.1052) == "3.11x" and signed(-0.5) == "-0.50" and signed(2) == "+2.00"
    for f in (percent, number, factor, signed):
        assert f(None) == "-" and f(float("inf")) == "-" and f("1") == "-"
