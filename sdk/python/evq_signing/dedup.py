"""A bounded cache of message ids, for dropping messages that arrive again."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["DedupCache"]


class DedupCache:
    """The ``max_size`` message ids seen most recently, evicting the least recently seen.

    A message can arrive more than once, for example when its visibility
    timeout ends before the consumer acknowledges it. Call ``seen`` only after
    ``verify_message`` succeeds, so a forged message cannot mark a real id as
    seen. An id that was evicted counts as new again. The methods are safe to
    call from several threads.
    """

    def __init__(self, max_size: int) -> None:
        if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1:
            raise ValueError(f"max_size must be an int of at least 1, not {max_size!r}.")
        self._max_size = max_size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def max_size(self) -> int:
        """Maximum number of ids that the cache keeps."""
        return self._max_size

    def seen(self, message_id: str) -> bool:
        """Record a message id and return whether it was already in the cache.

        A repeated id becomes the most recently seen. Recording a new id
        evicts the least recently seen one when the cache is full.
        """
        with self._lock:
            if message_id in self._ids:
                self._ids.move_to_end(message_id)
                return True
            self._ids[message_id] = None
            if len(self._ids) > self._max_size:
                self._ids.popitem(last=False)
            return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)
