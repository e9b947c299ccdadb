"""`python -m rethink` is the `rethink` command."""

from rethink.cli import main

main()
