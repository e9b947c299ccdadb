"""`python -m rethink.bench SETTINGS.json OUT.json`: one backend's worker (see `worker`)."""

from __future__ import annotations

import sys

from rethink.bench.worker import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
