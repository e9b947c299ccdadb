"""What a grid is: a frozen `GridSpec`, a selection from it, its expansion into runs.

Pure Python, importable without Keras:

    from rethink.grid.presets import PRESETS
    grid = select(PRESETS["smoke"], models=("mlp_1x512",), overrides={"steps": 100})
    specs = expand(grid)                          # RunSpecs, model-major, ids unique

A grid is models x randomizations (x partial-label levels) x variants x seeds.
A *variant* is a set of training overrides that applies to some models and
randomizations only; Table 1 (each model with and without weight decay and
random crop, plus random labels) is the one preset that needs more than one.
The named grids are `rethink.grid.presets`; grid.json, which stores a grid in
its folder, is `rethink.grid.record`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rethink.spec import CORRUPTIONS, RunSpec, SpecError
from rethink.spec.architectures import CUSTOM, MODELS, check_model, parse_reference

# RunSpec fields that identify a run within a grid; everything else is "base".
_RUN_AXES = ("model", "corruption", "level", "seed")
TRAINING_FIELDS = tuple(f.name for f in dataclasses.fields(RunSpec) if f.name not in _RUN_AXES)


class GridError(ValueError):
    """A selection that cannot describe a grid (unknown name, empty, colliding runs)."""


@dataclass(frozen=True)
class Variant:
    """Training overrides for the runs of some models and randomizations (None: all)."""

    overrides: Mapping[str, Any] = field(default_factory=dict, hash=False)
    models: tuple[str, ...] | None = None
    corruptions: tuple[str, ...] | None = None

    def applies(self, model: str, corruption: str) -> bool:
        return (self.models is None or model in self.models) and (
            self.corruptions is None or corruption in self.corruptions
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "overrides": dict(self.overrides),
            "models": None if self.models is None else list(self.models),
            "corruptions": None if self.corruptions is None else list(self.corruptions),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Variant:
        models, corruptions = d.get("models"), d.get("corruptions")
        return cls(
            overrides=dict(d.get("overrides") or {}),
            models=None if models is None else tuple(models),
            corruptions=None if corruptions is None else tuple(corruptions),
        )


PLAIN = Variant()


@dataclass(frozen=True)
class GridSpec:
    """Which runs a grid trains. Selections are kept in canonical order, without repeats.

    `corruptions` may name `partial_labels` only together with `levels`; any
    `levels` add partial-label runs at those levels.
    """

    models: tuple[str, ...]
    corruptions: tuple[str, ...]
    levels: tuple[float, ...] = ()
    seeds: tuple[int, ...] = (0,)
    base: Mapping[str, Any] = field(default_factory=dict, hash=False)  # RunSpec training fields
    variants: tuple[Variant, ...] = (PLAIN,)

    def __post_init__(self) -> None:
        models = _models(self.models)
        corruptions = _canonical(self.corruptions, CORRUPTIONS, "corruption")
        levels = tuple(sorted({_level(x) for x in self.levels}))
        if "partial_labels" in corruptions and not levels:
            raise GridError("partial_labels needs corruption levels (--levels 0,0.2,...,1)")
        if levels and "partial_labels" not in corruptions:
            corruptions = _canonical((*corruptions, "partial_labels"), CORRUPTIONS, "corruption")
        seeds = tuple(sorted(set(self.seeds)))
        if any(not isinstance(s, int) or s < 0 for s in seeds):
            raise GridError(f"seeds must be integers >= 0, got {list(self.seeds)}")
        for name in self.base:
            if name not in TRAINING_FIELDS:
                raise GridError(f"{name!r} is not a training setting of a run")
        for v in self.variants:
            for name in v.overrides:
                if name not in TRAINING_FIELDS:
                    raise GridError(f"{name!r} is not a training setting of a run")
        object.__setattr__(self, "models", models)
        object.__setattr__(self, "corruptions", corruptions)
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "base", dict(self.base))
        object.__setattr__(self, "variants", tuple(self.variants))

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "corruptions": list(self.corruptions),
            "levels": list(self.levels),
            "seeds": list(self.seeds),
            "base": dict(self.base),
            "variants": [v.to_dict() for v in self.variants],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GridSpec:
        try:
            return cls(
                models=tuple(d["models"]),
                corruptions=tuple(d["corruptions"]),
                levels=tuple(d.get("levels") or ()),
                seeds=tuple(d.get("seeds") or (0,)),
                base=dict(d.get("base") or {}),
                variants=tuple(Variant.from_dict(v) for v in d.get("variants") or [{}]),
            )
        except (KeyError, TypeError) as e:
            raise GridError(f"not a grid description: {e}") from None


def _canonical(names: Iterable[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    names = tuple(names)
    for name in names:
        if name not in known:
            raise GridError(f"unknown {what} {name!r}; choose from {', '.join(known)}")
    return tuple(k for k in known if k in names)


def _models(names: Iterable[str]) -> tuple[str, ...]:
    """The paper's models in the paper's order, then models of yours as given (one
    spelling each: "./x.py:f" is "x.py:f")."""
    names = tuple(names)
    mine: list[str] = []
    for name in names:
        ref = parse_reference(name) if name not in MODELS else None
        if ref is None and name not in MODELS and name not in CUSTOM:
            try:
                check_model(name)
            except ValueError as e:
                raise GridError(str(e)) from None
        if ref is not None and ref.text not in mine:
            mine.append(ref.text)
        elif name in CUSTOM and name not in mine:
            mine.append(name)
    return (*_canonical([n for n in names if n in MODELS], MODELS, "model"), *mine)


def _level(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise GridError(f"corruption level must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise GridError(f"corruption level must be in [0, 1], got {value:g}")
    return float(value)


def select(
    grid: GridSpec,
    *,
    models: Sequence[str] | None = None,
    corruptions: Sequence[str] | None = None,
    levels: Sequence[float] | None = None,
    seeds: int | Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    plain: bool = True,
) -> GridSpec:
    """`grid` (a preset) with the user's selection and training flags put in.

    Given `corruptions` replace the preset's, and drop its levels unless
    `partial_labels` is among them; given `levels` replace the preset's.
    `seeds=N` means seeds 0..N-1, a sequence those seeds. `overrides` win over
    the preset's base; a given `steps` clears the base's `epochs` and the other
    way round. `plain=False` leaves out the runs without weight decay and random
    crop (a grid's regularized rows only, e.g. Table 1's beside a paper grid).
    """
    new_levels: tuple[float, ...] = grid.levels
    if corruptions is not None:
        if not corruptions:
            raise GridError("no corruptions selected")
        if "partial_labels" not in corruptions:
            new_levels = ()
    if levels is not None:
        if not levels:
            raise GridError("no corruption levels given")
        new_levels = tuple(levels)
    if models is not None and not models:
        raise GridError("no models selected")
    chosen_seeds = grid.seeds
    if isinstance(seeds, int):
        if seeds < 1:
            raise GridError(f"--seeds must be at least 1, got {seeds}")
        chosen_seeds = tuple(range(seeds))
    elif seeds is not None:
        if not seeds:
            raise GridError("no seeds given")
        chosen_seeds = tuple(seeds)
    base = dict(grid.base)
    overrides = dict(overrides or {})
    if overrides.get("steps") is not None and overrides.get("epochs") is not None:
        raise GridError("give steps or epochs, not both")
    if overrides.get("steps") is not None:
        base["epochs"] = None
    if overrides.get("epochs") is not None:
        base["steps"] = None
    base.update({k: v for k, v in overrides.items() if v is not None})
    variants = grid.variants
    if not plain:
        variants = tuple(v for v in variants if _regularized({**base, **v.overrides}))
        if not variants:
            raise GridError(
                "--no-plain leaves no run: every run of this grid trains without weight decay "
                "and random crop"
            )
    return GridSpec(
        models=tuple(models) if models is not None else grid.models,
        corruptions=tuple(corruptions) if corruptions is not None else grid.corruptions,
        levels=new_levels,
        seeds=chosen_seeds,
        base=base,
        variants=variants,
    )


def _regularized(settings: Mapping[str, Any]) -> bool:
    """Whether runs with these settings train with weight decay or random crop."""
    return bool(settings.get("weight_decay")) or bool(settings.get("augment"))


def expand(grid: GridSpec) -> list[RunSpec]:
    """The grid's runs, model-major (then randomization, level, variant, seed); ids unique.

    Raises GridError for settings no run accepts, an empty grid, or two runs
    that would share an id (and so a folder).
    """
    specs: list[RunSpec] = []
    for model in grid.models:
        for corruption in grid.corruptions:
            levels: tuple[float | None, ...] = (
                grid.levels if corruption == "partial_labels" else (None,)
            )
            for level in levels:
                for variant in grid.variants:
                    if not variant.applies(model, corruption):
                        continue
                    for seed in grid.seeds:
                        settings = {**grid.base, **variant.overrides}
                        try:
                            spec = RunSpec(
                                model=model,
                                corruption=corruption,
                                level=level,
                                seed=seed,
                                **settings,
                            )
                        except SpecError as e:
                            raise GridError(str(e)) from None
                        specs.append(spec)
    if not specs:
        raise GridError("the selection gives no runs")
    seen: dict[str, RunSpec] = {}
    for spec in specs:
        if spec.run_id in seen:
            raise GridError(
                f"two runs would share the id {spec.run_id!r} (and its folder); "
                "the selection or training flags make them identical"
            )
        seen[spec.run_id] = spec
    return specs
