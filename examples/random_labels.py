"""Memorize random labels with the Python API: a small MLP on a CIFAR-10 subset.

    KERAS_BACKEND=jax python examples/random_labels.py path/to/cifar10.tar.gz

Trains MLP 1x512 on 1,000 training images twice, with true and with random
labels, and prints training and test accuracy: both fit the training set,
only true labels generalize. About a minute on a laptop CPU.
RETHINK_EXAMPLE_TINY=1 shrinks it to seconds (20 steps on 100 images), as the
tests run it.
"""

from __future__ import annotations

import os
import sys

from rethink.data import load_cifar10
from rethink.data.pipeline import prepare
from rethink.spec import RunSpec
from rethink.train.loop import train


def main(source: str | None) -> None:
    raw = load_cifar10(source)
    tiny = os.environ.get("RETHINK_EXAMPLE_TINY") == "1"
    steps, images = (20, 100) if tiny else (400, 1000)
    for corruption in ("true_labels", "random_labels"):
        spec = RunSpec(
            model="mlp_1x512",
            corruption=corruption,
            steps=steps,
            batch_size=50,
            learning_rate=0.02,
            train_subset=images,
            test_subset=images,
        )
        outcome = train(spec, prepare(spec, raw))
        print(
            f"{corruption:>13}: train acc {outcome.train_acc:.3f}, test acc {outcome.test_acc:.3f},"
            f" steps to 100% train acc {outcome.steps_to_fit}"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
