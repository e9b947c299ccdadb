"""`python -m rethink.models.check REFERENCE OUTPUT H,W,C CLASSES`: build a model of yours once.

For processes that must not import Keras themselves (`rethink grid`, whose
workers train): exit code 0 when the model builds for that input and outputs
one value per class, else 2 with the one-line `ModelError` on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from rethink.models import build
    from rethink.models.custom import ModelError, configure

    reference, output, shape, classes = list(sys.argv[1:] if argv is None else argv)
    try:
        configure(reference, output=output)
        build(reference, tuple(int(d) for d in shape.split(",")), int(classes))
    except (ModelError, ValueError) as e:
        print(str(e).splitlines()[0] if str(e) else type(e).__name__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
