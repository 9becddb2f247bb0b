"""Reading the pickle files that CIFAR ships, without running arbitrary code.

The restricted unpickler is the exported script's
(:class:`designer.training.portable_data.SafeUnpickler`): it resolves only the
few globals that rebuild dicts, lists, strings, bytes and numpy arrays and
refuses every other name.
"""

from __future__ import annotations

from designer.training.portable_data import SafeUnpickler, safe_loads

RestrictedUnpickler = SafeUnpickler  # the engine's older name

__all__ = ["RestrictedUnpickler", "SafeUnpickler", "safe_loads"]
