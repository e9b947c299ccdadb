"""The one error of the kernel stage: a problem that cannot be run as asked."""

from __future__ import annotations


class KernelError(ValueError):
    """Bad settings, a problem too large for the memory, or a failed factorization.

    The message is one line that names the sizes or the setting at fault.
    """
