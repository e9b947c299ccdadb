"""The one error of the spec layer."""

from __future__ import annotations


class SpecError(ValueError):
    """A setting that cannot describe a run (unknown name, value out of range)."""


def positive(name: str, value: int | None) -> None:
    """Raise SpecError unless `value` is None or a positive number."""
    if value is not None and value <= 0:
        raise SpecError(f"{name} must be positive, got {value}")


def plain_strs(spec: object, names: tuple[str, ...]) -> None:
    """Turn str Enum members (CLI choices) into plain strs on a frozen dataclass: some
    writers (h5py, inside model.save on TensorFlow) cannot store the members."""
    for name in names:
        value = getattr(spec, name)
        if isinstance(value, str) and type(value) is not str:
            object.__setattr__(spec, name, str(value))
