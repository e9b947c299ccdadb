"""Your own model in rethink: a CIFAR-style ResNet-20 (He et al. 2016, section 4.2) in Keras.

A builder takes the input shape and the class count and returns a keras.Model
that outputs logits; rethink imports it from this file and trains it with the
paper's protocol, like its own five models:

    # random labels on 256 training images: memorized (a 2-core CPU: minutes; 600 steps,
    # past the 459 that BatchNorm's moving statistics take to settle for inference)
    rethink run --model ./examples/own_model.py:resnet20 --corruption random_labels \
        --train-subset 256 --test-subset 256 --batch-size 32 --steps 600 --log-every 8 \
        --data cifar10.tar.gz

    # true and random labels, the paper's protocol (25,000 steps, lr 0.01 x 0.95 per epoch)
    rethink grid --model ./examples/own_model.py:resnet20 \
        --corruptions true_labels,random_labels --data cifar10.tar.gz
    rethink report output_1        # its own rows: fits, slowdown, test error against chance

    # a quick look at all five randomizations
    rethink grid --preset smoke --model ./examples/own_model.py:resnet20 --data cifar10.tar.gz

The run folder keeps a copy of this file (model.py) and its sha256 (model.json),
so --resume, grid workers and Ray nodes build the same network, and
`rethink.models.load(run_folder)` reads its model.keras. From Python:

    from rethink.models import register
    register("resnet20", resnet20)            # then RunSpec(model="resnet20", ...)

ResNet-20: a 3x3 convolution with 16 filters, then three stages of three basic
blocks (two 3x3 convolutions with BatchNorm, and the identity added) with 16, 32
and 64 filters, the last two starting with stride 2 (a 1x1 convolution matches
the shortcut's shape: He et al.'s option B), global average pooling and a dense
layer of logits: 0.27 M parameters, 20 weight layers. The paper's models were
trained without weight decay or augmentation in the randomization tests, so
this one has none either.
"""

from __future__ import annotations

import keras
from keras import layers


def _block(x: keras.KerasTensor, filters: int, stride: int, name: str) -> keras.KerasTensor:
    """A basic residual block: conv-BN-ReLU-conv-BN, plus the shortcut, then ReLU."""
    shortcut = x
    y = layers.Conv2D(
        filters,
        3,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv1",
    )(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv2",
    )(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters,
            1,
            strides=stride,
            use_bias=False,
            kernel_initializer="he_normal",
            name=f"{name}_proj",
        )(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)  # fmt: skip


def resnet(
    input_shape: tuple[int, ...], num_classes: int, depth: int = 20, width: int = 16
) -> keras.Model:
    """A CIFAR-style ResNet of `depth` = 6n + 2 weight layers (20, 32, 44, 56, 110),
    `width` filters in its first stage; outputs `num_classes` logits."""
    if (depth - 2) % 6:
        raise ValueError(f"a CIFAR ResNet has depth 6n + 2 (20, 32, 44, ...), got {depth}")
    blocks = (depth - 2) // 6
    inputs = keras.Input(shape=input_shape, name="images")
    x = layers.Conv2D(width, 3, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name="stem_conv")(inputs)  # fmt: skip
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage in range(3):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            x = _block(x, width * 2**stage, stride, name=f"stage{stage + 1}_block{block + 1}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    # float32 head: logits (and so the loss) stay float32 under mixed precision.
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=f"resnet{depth}")


def resnet20(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """ResNet-20 (0.27 M parameters for 28x28x3 and 10 classes): the builder rethink calls."""
    return resnet(input_shape, num_classes, depth=20)


if __name__ == "__main__":
    model = resnet20((28, 28, 3), 10)
    print(f"{model.name}: {model.count_params():,} parameters")
