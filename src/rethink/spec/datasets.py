"""Which data set a run trains on: its name, classes and image shape, and the input
the models see. Pure Python, no NumPy, no Keras.

    cifar10 = KNOWN["cifar10"]             # 10 classes of 32x32x3 images
    cifar10.crop(None)                     # 28: the paper's centre 28x28 of 32x32
    cifar10.input_shape(None)              # (28, 28, 3)
    mnist = KNOWN["mnist"]; mnist.input_shape(None)   # (28, 28, 1): no crop
    folder = Dataset("my_images", ("cat", "dog", "fox"), (20, 20, 1))
    folder.chance_error                    # 2/3: the test error of guessing
    cifar10.split_sizes                    # (50000, 10000); None for an image folder

The four named data sets are the ones `keras.datasets` serves (CIFAR-10,
CIFAR-100 with its 100 fine labels, MNIST, Fashion-MNIST). Any other data set
is an image folder, named after the folder (or archive) it came from, with
its sorted class-folder names as classes. Only CIFAR-10 has the paper's
numbers beside it (`has_paper_numbers`); CIFAR-10 and CIFAR-100 keep the
paper's centre 28x28 crop of 32x32, every other data set trains on whole
images unless a crop is asked for (`--crop N`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DataError(ValueError):
    """A data source that cannot be read as asked (the message names path and problem)."""


CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
# CIFAR-100's fine labels, in label order (which is alphabetical).
CIFAR100_CLASSES = tuple(
    """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge
    bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud
    cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl
    hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man
    maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree
    pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road
    rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar
    sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip
    turtle wardrobe whale willow_tree wolf woman worm""".split()  # noqa: SIM905
)
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# The paper's preprocessing: the centre 28x28 of CIFAR's 32x32 images.
PAPER_CROP = 28
_CROPPED = ("cifar10", "cifar100")
DEFAULT = "cifar10"


@dataclass(frozen=True)
class Dataset:
    """A data set's identity: its name, class names (label i is classes[i]) and the
    (height, width, channels) of every image, before any crop."""

    name: str
    classes: tuple[str, ...]
    shape: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.classes) < 2:
            raise DataError(f"{self.name}: {len(self.classes)} class; a data set needs two or more")
        h, w, c = self.shape
        if h < 1 or w < 1 or c not in (1, 3):
            raise DataError(f"{self.name}: images of {h}x{w}x{c}; expected 1 or 3 channels")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def chance_error(self) -> float:
        """The test error of a classifier that guesses: 1 - 1/classes (CIFAR-10: 90%)."""
        return 1.0 - 1.0 / self.num_classes

    @property
    def has_paper_numbers(self) -> bool:
        """Whether the paper reports numbers for it (CIFAR-10 only)."""
        return self.name == "cifar10"

    @property
    def split_sizes(self) -> tuple[int, int] | None:
        """(training, test) images of its whole splits where it is one of the named data
        sets (CIFAR-10: 50,000 and 10,000), else None: an image folder holds however many
        it holds, which only the run that read it knows (env.json "data_images")."""
        return SPLIT_SIZES.get(self.name) if KNOWN.get(self.name) == self else None

    @property
    def default_crop(self) -> int | None:
        """The side of the centre crop trained on when none is asked for: 28 for
        CIFAR-10 and CIFAR-100 at 32x32 (the paper's), else None (whole images)."""
        if self.name in _CROPPED and self.shape[:2] == (32, 32):
            return PAPER_CROP
        return None

    def crop(self, asked: int | None) -> int | None:
        """The centre-crop side used: `asked` (checked to fit), else the default.

        None means the whole image; a crop as large as a square image is None too.
        """
        if asked is None:
            return self.default_crop
        h, w, _ = self.shape
        if not 1 <= asked <= min(h, w):
            raise DataError(
                f"{self.name}: crop {asked} does not fit its {h}x{w} images (1..{min(h, w)})"
            )
        return None if asked == h == w else asked

    def input_shape(self, asked_crop: int | None = None) -> tuple[int, int, int]:
        """(height, width, channels) of what the models see, after the centre crop."""
        side = self.crop(asked_crop)
        h, w, c = self.shape
        return (h, w, c) if side is None else (side, side, c)

    def describe(self) -> str:
        """One line: 'cifar10: 10 classes of 32x32x3 images'."""
        h, w, c = self.shape
        return f"{self.name}: {self.num_classes} classes of {h}x{w}x{c} images"

    def to_dict(self) -> dict[str, Any]:
        """What spec folders record (env.json "dataset")."""
        return {
            "name": self.name,
            "num_classes": self.num_classes,
            "classes": list(self.classes),
            "shape": list(self.shape),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dataset:
        h, w, c = (int(v) for v in d["shape"])
        return cls(str(d["name"]), tuple(str(n) for n in d["classes"]), (h, w, c))


KNOWN: dict[str, Dataset] = {
    "cifar10": Dataset("cifar10", CIFAR10_CLASSES, (32, 32, 3)),
    "cifar100": Dataset("cifar100", CIFAR100_CLASSES, (32, 32, 3)),
    "mnist": Dataset("mnist", MNIST_CLASSES, (28, 28, 1)),
    "fashion_mnist": Dataset("fashion_mnist", FASHION_MNIST_CLASSES, (28, 28, 1)),
}
NAMES = tuple(KNOWN)
# (training, test) images of the named data sets' whole splits, as keras.datasets serves them.
SPLIT_SIZES: dict[str, tuple[int, int]] = {
    "cifar10": (50_000, 10_000),
    "cifar100": (50_000, 10_000),
    "mnist": (60_000, 10_000),
    "fashion_mnist": (60_000, 10_000),
}


def known(name: str) -> Dataset:
    """The named data set; DataError naming the choices for an unknown name."""
    try:
        return KNOWN[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose from {', '.join(NAMES)}") from None


def identify(found: Dataset, asked: str | None, where: str) -> Dataset:
    """The identity of data read from `where`, given the name the user asked for.

    `found` is what the source holds (named by its format or folder). With no
    name asked, an image folder of CIFAR-10's or CIFAR-100's classes at 32x32x3
    is that data set, and anything else keeps its own name. With a name asked,
    the data must have that data set's class count and image shape.
    """
    if asked is None:
        for candidate in KNOWN.values():
            if found.classes == candidate.classes and found.shape == candidate.shape:
                return candidate
        return found
    named = known(asked)
    if (found.num_classes, found.shape) != (named.num_classes, named.shape):
        h, w, c = found.shape
        raise DataError(
            f"{where}: holds {found.num_classes} classes of {h}x{w}x{c} images, "
            f"not {named.describe()}"
        )
    return named
