"""coordkit: runs the training of ISA Support Coordinators for Foreign Nationals."""

__version__ = "0.1.0"

from . import _legacy

_legacy.install()
