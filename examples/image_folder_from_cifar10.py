"""Write some classes of CIFAR-10 as an image folder of your own, to try `--data DIR`.

    python examples/image_folder_from_cifar10.py cifar10-jpeg.tar.gz cifar3-grey \
        --classes cat,dog,horse --grey
    rethink grid --data cifar3-grey --preset smoke       # 3 classes, 32x32x1: chance 66.67%

The folder is the layout `rethink` reads for any data set: train/<class>/NNNNN.png
and test/<class>/NNNNN.png, classes in sorted order. `--grey` converts to one
channel (ITU-R 601-2 luma, Pillow's "L"); `--size N` resizes to NxN; `--per-class N`
keeps the first N images of each class in each split (RETHINK_EXAMPLE_TINY=1: 20, as
the tests run it).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from PIL import Image

from rethink.data import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a CIFAR-10 copy rethink reads (archive or folder)")
    parser.add_argument("out", type=Path, help="the image folder to write (must not exist)")
    parser.add_argument("--classes", default="cat,dog,horse", help="CIFAR-10 class names")
    parser.add_argument("--grey", action="store_true", help="one channel instead of three")
    parser.add_argument("--size", type=int, default=None, help="resize to NxN")
    tiny = os.environ.get("RETHINK_EXAMPLE_TINY") == "1"
    parser.add_argument(
        "--per-class",
        type=int,
        default=20 if tiny else None,
        help="at most N images per class and split (default: all)",
    )
    args = parser.parse_args()

    loaded = load(args.source, "cifar10")
    names = loaded.dataset.classes
    wanted = sorted(c.strip() for c in args.classes.split(",") if c.strip())
    unknown = [c for c in wanted if c not in names]
    if unknown or len(wanted) < 2:
        parser.error(f"give two or more of {', '.join(names)}; got {args.classes!r}")
    if args.per_class is not None and args.per_class < 1:
        parser.error(f"--per-class must be at least 1; got {args.per_class}")
    if args.out.exists():
        parser.error(f"{args.out} exists; give a new folder")
    for split, (x, y) in zip(("train", "test"), loaded.arrays, strict=True):
        for name in wanted:
            folder = args.out / split / name
            folder.mkdir(parents=True)
            indices = np.flatnonzero(y == names.index(name))[: args.per_class]
            for i, index in enumerate(indices):
                image = Image.fromarray(x[index])
                if args.grey:
                    image = image.convert("L")
                if args.size:
                    image = image.resize((args.size, args.size), Image.Resampling.BILINEAR)
                image.save(folder / f"{i:05d}.png")
    print(f"wrote {args.out}: {len(wanted)} classes ({', '.join(wanted)})")


if __name__ == "__main__":
    main()
