"""What a grid is: a frozen `GridSpec`, its presets, its expansion into runs, grid.json.

Pure Python, importable without Keras:

    grid = PRESETS["smoke"]                       # 5 models x 5 randomizations
    grid = select(grid, models=("mlp_1x512",), overrides={"steps": 100})
    specs = expand(grid)                          # RunSpecs, model-major, ids unique

A grid is models x randomizations (x partial-label levels) x variants x seeds.
A *variant* is a set of training overrides that applies to some models and
randomizations only; Table 1 (each model with and without weight decay and
random crop, plus random labels) is the one preset that needs more than one.

The grid folder stores `grid.json` (preset, selection, base settings, backend,
creation time, run ids) so the folder alone says what it holds, and so
`rethink grid --resume DIR` can continue it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rethink.models import MODELS
from rethink.run.folder import read_json, write_json
from rethink.spec import CORRUPTIONS, RunSpec, SpecError

GRID_JSON = "grid.json"
GRID_FORMAT = 1

# Figure 1a's five randomizations (partial labels is a sweep of its own).
PAPER_CORRUPTIONS = ("true_labels", "random_labels", "shuffled_pixels", "random_pixels", "gaussian")
FIG1B_LEVELS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
TABLE1_WEIGHT_DECAY = 5e-4  # the paper gives no value; see paper.md

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
        models = _canonical(self.models, MODELS, "model")
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


def _level(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise GridError(f"corruption level must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise GridError(f"corruption level must be in [0, 1], got {value:g}")
    return float(value)


PRESETS: dict[str, GridSpec] = {
    # Figure 1a and the paper's protocol: 5 models x 5 randomizations, RunSpec defaults.
    "paper": GridSpec(models=MODELS, corruptions=PAPER_CORRUPTIONS),
    # The same 25 runs, tiny: a first try on a 2-core CPU and CI. About 5 minutes
    # with --jobs 2 on 2 cores (JAX), most of it the 10 Inception runs; 40 steps
    # cross one epoch end (31 steps), so each run also writes a checkpoint.
    "smoke": GridSpec(
        models=MODELS,
        corruptions=PAPER_CORRUPTIONS,
        base={
            "steps": 40,
            "batch_size": 16,
            "log_every": 10,
            "train_subset": 500,
            "test_subset": 250,
        },
    ),
    # Figure 1b/1c: time to overfit and test error against label-corruption level.
    "fig1b": GridSpec(
        models=("inception", "alexnet", "mlp_1x512"),
        corruptions=("partial_labels",),
        levels=FIG1B_LEVELS,
        base={"stop_at_fit": True},
    ),
    # Table 1's rows. Weight decay is in the base, so --weight-decay changes it;
    # the variants without it set it to 0. Random crop only for the conv nets
    # that have it in the table; random labels without either.
    "table1": GridSpec(
        models=MODELS,
        corruptions=("true_labels", "random_labels"),
        base={"weight_decay": TABLE1_WEIGHT_DECAY},
        variants=(
            Variant({"augment": True}, ("inception", "alexnet"), ("true_labels",)),
            Variant(
                {"augment": True, "weight_decay": 0.0}, ("inception", "alexnet"), ("true_labels",)
            ),
            Variant({}, None, ("true_labels",)),
            Variant({"weight_decay": 0.0}),
        ),
    ),
    # Figure 2(b) (section 3.1): Inception with and without BatchNorm on the true
    # labels, no weight decay, no augmentation, the paper's protocol.
    "fig2": GridSpec(models=("inception", "inception_no_bn"), corruptions=("true_labels",)),
    # Section 3: regularizers do not stop memorization. Random labels with weight
    # decay (in the base, so --weight-decay changes it): Inception and the MLPs
    # still fit them, AlexNet fails to converge.
    "regularized": GridSpec(
        models=("inception", "alexnet", "mlp_1x512", "mlp_3x512"),
        corruptions=("random_labels",),
        base={"weight_decay": TABLE1_WEIGHT_DECAY},
    ),
}

PRESET_HELP = {
    "paper": "5 models x 5 randomizations, the paper's full protocol (25 runs)",
    "smoke": "the same 25 runs on 500 images for 40 steps: minutes on a CPU",
    "fig1b": "Inception, AlexNet, MLP 1x512 x label-corruption levels 0..1, stop at fit",
    "table1": "Table 1: each model with/without weight decay and random crop, + random labels",
    "fig2": "Figure 2(b): Inception with and without BatchNorm on true labels (2 runs)",
    "regularized": "section 3: random labels with weight decay, Inception, AlexNet, both MLPs",
}


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


# ---- the grid folder -------------------------------------------------------------


def record(
    grid: GridSpec,
    specs: Sequence[RunSpec],
    *,
    preset: str,
    backend: str,
    argv: Sequence[str] = (),
    compact: bool = False,
) -> dict[str, Any]:
    """grid.json's content: what the folder holds and how it was made.

    `compact`: each finished run's checkpoint and model are removed (`rethink grid
    --compact`); stored so that a resumed grid keeps doing it (absent: off)."""
    return {
        "format": GRID_FORMAT,
        "preset": preset,
        "grid": grid.to_dict(),
        "backend": backend,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(argv),
        "runs": [s.run_id for s in specs],
        "compact": compact,
    }


def is_compact(rec: Mapping[str, Any]) -> bool:
    """Whether a grid.json record asks for a compact grid (older records: no)."""
    return rec.get("compact") is True


def write_record(folder: Path, rec: Mapping[str, Any]) -> None:
    write_json(folder / GRID_JSON, dict(rec))


def read_record(folder: Path) -> dict[str, Any] | None:
    """grid.json of `folder`, or None if there is none (or it is unreadable)."""
    return read_json(folder / GRID_JSON)


def grid_of(rec: Mapping[str, Any]) -> GridSpec:
    """The GridSpec stored in a grid.json record (GridError if it is not one)."""
    if not isinstance(rec.get("grid"), dict):
        raise GridError("grid.json holds no grid description")
    return GridSpec.from_dict(rec["grid"])


def difference(old: Sequence[RunSpec], new: Sequence[RunSpec]) -> str | None:
    """How two grids' runs differ, in a few words; None if they are the same runs."""
    old_ids, new_ids = [s.run_id for s in old], [s.run_id for s in new]
    if old_ids != new_ids:
        added = [i for i in new_ids if i not in old_ids]
        missing = [i for i in old_ids if i not in new_ids]
        parts = []
        if added:
            parts.append(f"{len(added)} run(s) it does not hold (e.g. {added[0]})")
        if missing:
            parts.append(f"{len(missing)} of its runs left out (e.g. {missing[0]})")
        return "; ".join(parts) or "the runs are in another order"
    for a, b in zip(old, new, strict=True):
        da, db = a.to_dict(), b.to_dict()
        for key in da:
            if da[key] != db.get(key):
                return f"{a.run_id}: {key} {da[key]!r} there, {db.get(key)!r} here"
    return None


def next_output_dir(parent: Path) -> Path:
    """`parent/output_N` with N one more than the highest existing (output_1 if none)."""
    numbers = [0]
    if parent.is_dir():
        for p in parent.iterdir():
            m = re.fullmatch(r"output_(\d+)", p.name)
            if m:
                numbers.append(int(m.group(1)))
    return parent / f"output_{max(numbers) + 1}"
