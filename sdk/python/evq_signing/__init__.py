"""Sign and verify evq message signatures."""

from .jcs import canonical_json

__all__ = ["canonical_json"]
