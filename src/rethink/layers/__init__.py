"""Custom Keras layers of rethink (registered serializable under package "rethink")."""

from rethink.layers.lrn import LocalResponseNormalization

__all__ = ["LocalResponseNormalization"]
