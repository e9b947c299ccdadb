"""The log of a model's probabilities: logits for a model of yours that ends in a softmax.

    ProbabilityLogits()(probabilities)   # log(clip(p, 1e-7, 1)); softmax of it is p again

`rethink.models.custom.build_custom` appends it to a builder's model declared
`output="probabilities"` (`--model-output probabilities`), so every model trains
with the same loss on logits. Registered serializable (`rethink>ProbabilityLogits`):
`rethink.models.load` reads a model.keras holding it.
"""

from __future__ import annotations

from typing import Any

import keras

EPSILON = 1e-7  # keeps log finite where a probability underflows to 0 (as Keras's own loss)


@keras.saving.register_keras_serializable(package="rethink")
class ProbabilityLogits(keras.layers.Layer):
    """Maps probabilities p to logits log(clip(p, EPSILON, 1)), in float32.

    softmax(log p) = p / sum(p) = p, so the cross-entropy on these logits is the
    cross-entropy of the probabilities themselves.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, probabilities: Any) -> Any:
        p = keras.ops.cast(probabilities, "float32")
        return keras.ops.log(keras.ops.clip(p, EPSILON, 1.0))
