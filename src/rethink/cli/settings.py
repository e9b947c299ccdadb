"""A command's run settings as parsed, and the decorator that puts their options on it.

    @app.command("run")
    @with_settings()                       # grid=True: as `rethink grid` shows them
    def run_command(model: ModelOption = None, *, settings: Settings) -> None:
        RunSpec(model=model, **settings.spec_fields())      # `rethink run`: every value
        select(preset, overrides=settings.overrides())      # `rethink grid`: what was given

`with_settings` puts an option for every `rethink.cli.options.SETTINGS` entry
where a command declares the keyword-only parameter `settings: Settings`,
so the options are declared once and listed in no signature; the command
receives their values gathered in one `Settings`, with where each came from:
Click's parameter source (`ctx.get_parameter_source`), which tells an option
given on the command line (or by its environment variable) from its default,
so no option needs a None default to mean "not given".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import typer

from rethink.cli.options import EXECUTION, SETTINGS

_NOT_GIVEN = ("DEFAULT", "DEFAULT_MAP")  # Click's ParameterSource names for "not given"


@dataclass(frozen=True)
class Settings:
    """A command's settings as parsed: every value (the default where none was given)
    and where each came from (Click's ParameterSource: COMMANDLINE, ENVIRONMENT, DEFAULT)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def given(self, name: str) -> bool:
        """Whether option `name` was given, on the command line or by its variable."""
        return self.sources.get(name, "DEFAULT") not in _NOT_GIVEN

    def typed(self, name: str) -> bool:
        """Whether option `name` was given on the command line (not by its variable)."""
        return self.sources.get(name) == "COMMANDLINE"

    def from_environment(self, name: str) -> bool:
        return self.sources.get(name) == "ENVIRONMENT"

    def spec_fields(self) -> dict[str, Any]:
        """Every RunSpec field among the settings; --epochs alone clears the default steps."""
        fields = {s.name: self[s.name] for s in SETTINGS if s.kind != EXECUTION}
        if self.given("epochs") and not self.given("steps"):
            fields["steps"] = None
        return fields

    def overrides(self) -> dict[str, Any]:
        """The RunSpec fields given (a grid's preset decides the others)."""
        return {k: v for k, v in self.spec_fields().items() if self.given(k)}

    def execution(self) -> dict[str, Any]:
        """The execution settings given, as a spec's `extra` stores them."""
        return {
            s.name: self[s.name]
            for s in SETTINGS
            if s.kind == EXECUTION and s.name in self.values and self.given(s.name)
        }


Command = TypeVar("Command", bound=Callable[..., Any])
_CONTEXT = "_settings_context"


def with_settings(grid: bool = False, kind: str | None = None) -> Callable[[Command], Command]:
    """An option for every setting (of `kind` only, if given: e.g. EXECUTION) where the
    command declares `settings: Settings` (a keyword-only parameter), which it then
    receives; `grid`: as `rethink grid` shows them."""
    chosen = [s for s in SETTINGS if kind is None or s.kind == kind]

    def add(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index("settings")
        context = next((p.name for p in params if p.annotation is typer.Context), None)
        own_context = [] if context else [_context_parameter()]
        options = [s.parameter(grid) for s in chosen]
        parameters = [*params[:at], *options, *params[at + 1 :], *own_context]

        @functools.wraps(command)
        def call(**kwargs: Any) -> Any:
            ctx = kwargs[context] if context else kwargs.pop(_CONTEXT)
            values = {s.name: kwargs.pop(s.name) for s in chosen}
            sources = {k: getattr(ctx.get_parameter_source(k), "name", "DEFAULT") for k in values}
            return command(**kwargs, settings=Settings(values, sources))

        call.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        call.__annotations__ = {p.name: p.annotation for p in parameters}
        return cast(Command, call)

    return add


def _context_parameter() -> inspect.Parameter:
    kind = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter(_CONTEXT, kind, annotation=typer.Context)
