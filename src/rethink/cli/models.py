"""`rethink models`: the paper's models and their parameter counts."""

from __future__ import annotations

from rich.table import Table

from rethink.cli import BackendOption, app, console, use_backend


@app.command("models")
def models_command(backend: BackendOption = None) -> None:
    """List the paper's five models with their parameter counts (built for real)."""
    use_backend(backend)
    from rethink.models import REGISTRY, build

    table = Table(title="rethink models (input 28x28x3, 10 classes)")
    table.add_column("model")
    table.add_column("trainable parameters", justify="right")
    table.add_column("paper (Table 1)", justify="right")
    for name, info in REGISTRY.items():
        model = build(name)
        count = int(sum(_size(w.shape) for w in model.trainable_weights))
        table.add_row(name, f"{count:,}", f"{info.paper_parameters:,}")
    console.print(table)


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
