"""The canonical strings that producer signatures and evq's storage signature cover."""

from __future__ import annotations

import hashlib
import re
from typing import Optional

from .jcs import canonical_json

__all__ = ["CANONICAL_VERSION", "canonical_string", "data_digest", "storage_canonical_string"]

CANONICAL_VERSION = "evq-v1"
"""First line of every canonical string, naming this version of the format."""

# A Python str contains code points, so a code point in this range is a lone
# surrogate, which has no UTF-8 form.
_SURROGATE = re.compile("[\ud800-\udfff]")


def data_digest(data: object) -> str:
    """Return the lowercase hex SHA-256 of the JCS serialization of ``data``.

    ``data`` is the parsed JSON payload. Raises what ``canonical_json`` raises.
    """
    return hashlib.sha256(canonical_json(data)).hexdigest()


def canonical_string(queue: str, id: str, timestamp: int, nonce: str, data: object) -> str:
    """Return the canonical string of a producer signature.

    The string is six lines joined by ``\\n`` with no trailing newline:
    ``evq-v1``, the queue, the message id, the timestamp in Unix seconds, the
    nonce and the ``data_digest`` of the payload.

    Raises TypeError when queue, id or nonce is not a str or the timestamp is
    not an int. Raises ValueError when the timestamp is negative, when queue,
    id or nonce contains a line feed, or when one of them has a lone surrogate.
    Each field must stay on its own line, or two different messages could
    have the same canonical string.
    """
    _check_text("queue", queue, single_line=True)
    _check_text("id", id, single_line=True)
    _check_text("nonce", nonce, single_line=True)
    _check_timestamp(timestamp)
    return "\n".join([CANONICAL_VERSION, queue, id, str(int(timestamp)), nonce, data_digest(data)])


def storage_canonical_string(queue: str, id: str, timestamp: int, data: object, producer: Optional[str]) -> str:
    """Return the string that evq's storage signature covers.

    It is the canonical string with an empty nonce, followed by a line with
    the producer id, which is empty when ``producer`` is None. The producer
    is the last line, so it may contain line feeds.

    Raises as ``canonical_string`` does, TypeError when the producer is
    neither a str nor None, and ValueError when it has a lone surrogate.
    """
    if producer is None:
        producer = ""
    _check_text("producer", producer, single_line=False)
    return canonical_string(queue, id, timestamp, "", data) + "\n" + producer


def _check_text(field: str, value: object, single_line: bool) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}: {value!r}.")
    if single_line and "\n" in value:
        raise ValueError(f"{field} must not contain a line feed: {value!r}.")
    match = _SURROGATE.search(value)
    if match is not None:
        raise ValueError(
            f"{field} must be valid Unicode, but it has a lone surrogate U+{ord(match.group()):04X} "
            f"at index {match.start()}: {value!r}."
        )


def _check_timestamp(timestamp: object) -> None:
    # bool is a subclass of int but not a timestamp.
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise TypeError(f"timestamp must be an int of Unix seconds, not {type(timestamp).__name__}: {timestamp!r}.")
    if timestamp < 0:
        raise ValueError(f"timestamp must be Unix seconds from 0 up, not {timestamp}.")
