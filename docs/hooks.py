"""MkDocs hooks (mkdocs.yml `hooks:`): the command-line reference, generated at build time.

`cli_markdown()` walks the Typer app itself (`typer.main.get_command(rethink.cli.app)`,
after `rethink.cli._register()`) and writes every command's help, usage, arguments and
options as Markdown, from the same help records `rethink COMMAND --help` prints; the
`on_files` hook adds it to the site as `reference/cli.md`. Nothing generated is
committed, so the reference cannot drift from the code.

    python docs/hooks.py > /tmp/cli.md      # the same page, without MkDocs

This module imports no MkDocs at the top, so the tests (tests/repo/test_docs.py) load it
without the docs requirements.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Iterator
from typing import Any

CLI_PAGE = "reference/cli.md"
PROGRAM = "rethink"


def rethink_command() -> Any:
    """The `rethink` Click command that Typer builds, with every command registered."""
    import typer

    import rethink.cli

    rethink.cli._register()
    return typer.main.get_command(rethink.cli.app)


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command below `command` (itself excluded), depth first in name order, with its
    path of names from the top (`("grid",)`; a group's subcommands nest further)."""
    for name in sorted(getattr(command, "commands", {})):
        sub = command.commands[name]
        if getattr(sub, "hidden", False):
            continue
        yield (*path, name), sub
        yield from walk(sub, (*path, name))


def _cell(text: str, code: bool = False) -> str:
    """Text for one Markdown table cell: one line, no column breaks, no raw HTML (a code
    span shows its text as it is: a pipe in it splits no cell)."""
    text = " ".join(text.split())
    if code:
        return f"`{text}`"
    return html.escape(text, quote=False).replace("|", "\\|")


def _paragraphs(text: str) -> str:
    """A help text's paragraphs, each joined to one line, as Markdown (escaped)."""
    blocks = [" ".join(b.split()) for b in text.replace("\b", "").split("\n\n")]
    return "\n\n".join(html.escape(b, quote=False) for b in blocks if b)


def _params(command: Any, context: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(arguments, options) of `command` as (name, help) rows, in declaration order."""
    arguments, options = [], []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        record = param.get_help_record(context)
        if param.param_type_name == "argument":
            name = (param.name or "").upper()
            required = "" if param.required else " (optional)"
            many = " ..." if param.nargs == -1 else ""
            arguments.append((f"{name}{many}", (getattr(param, "help", None) or "") + required))
        elif record is not None:
            options.append(record)
    return arguments, options


def command_markdown(path: tuple[str, ...], command: Any, parent: Any) -> str:
    """One command's section: heading, help, usage, arguments and options tables."""
    import typer

    name = " ".join((PROGRAM, *path))
    context = typer.Context(command, info_name=path[-1], parent=parent, resilient_parsing=True)
    usage = " ".join(command.collect_usage_pieces(context))
    lines = [f"## `{name}`", "", _paragraphs(command.help or ""), ""]
    lines += ["```text", f"{name} {usage}".rstrip(), "```", ""]
    arguments, options = _params(command, context)
    for title, rows in (("argument", arguments), ("option", options)):
        if not rows:
            continue
        lines += [f"| {title} | what |", "|---|---|"]
        lines += [f"| {_cell(opt, code=True)} | {_cell(what)} |" for opt, what in rows]
        lines.append("")
    return "\n".join(lines)


def cli_markdown() -> str:
    """The whole command-line reference page."""
    import typer

    top = rethink_command()
    root = typer.Context(top, info_name=PROGRAM, resilient_parsing=True)
    commands = list(walk(top))
    lines = [
        "# Command line",
        "",
        "Generated from the `rethink` Typer app when the site is built (docs/hooks.py),",
        "so it always matches `rethink COMMAND --help`.",
        "",
        _paragraphs(top.help or ""),
        "",
        "| command | what |",
        "|---|---|",
    ]
    for path, command in commands:
        summary = (command.help or "").strip().split("\n\n")[0]
        anchor = "-".join((PROGRAM, *path))
        lines.append(f"| [`{' '.join((PROGRAM, *path))}`](#{anchor}) | {_cell(summary)} |")
    lines.append("")
    contexts = {(): root}
    for path, command in commands:
        parent = contexts[path[:-1]]
        lines.append(command_markdown(path, command, parent))
        contexts[path] = typer.Context(command, info_name=path[-1], parent=parent)
    return "\n".join(lines).rstrip() + "\n"


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated command-line reference to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, CLI_PAGE, content=cli_markdown()))
    return files


if __name__ == "__main__":
    sys.stdout.write(cli_markdown())
