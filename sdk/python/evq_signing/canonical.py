"""The canonical strings that producer signatures and evq's storage signature cover."""

from __future__ import annotations

import hashlib
import re
from typing import Dict, Mapping, Optional

from .jcs import canonical_json

__all__ = ["CANONICAL_VERSION", "canonical_string", "data_digest", "storage_canonical_string"]

CANONICAL_VERSION = "evq-v1"
"""First line of every canonical string, naming this version of the format."""

# The largest distance from the Unix epoch, in ms, that a JavaScript Date
# holds. evq stores deliverAt as a Date.
_MAX_DATE_MS = 8_640_000_000_000_000

# evq's own headers start with this prefix. The storage signature covers only
# the producer's headers.
_RESERVED_HEADER_PREFIX = "evq-"

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


def storage_canonical_string(
    queue: str,
    id: str,
    timestamp: int,
    data: object,
    producer: Optional[str],
    key: Optional[str],
    headers: Optional[Mapping[str, str]],
    deliver_at_ms: Optional[int],
) -> str:
    """Build the string that evq's storage signature covers.

    It is the canonical string with an empty nonce, followed by four lines:

    - the producer id as a JCS JSON string, quotes included, or an empty
      line when ``producer`` is None;
    - the message key in the same form, or an empty line when ``key`` is None;
    - the lowercase hex SHA-256 of the JCS form of ``headers``, where None
      counts as ``{}`` and names starting with ``evq-`` are left out,
      because they are evq's own headers and not the producer's;
    - ``deliver_at_ms``, the deliverAt time in integer milliseconds since
      the Unix epoch, or an empty line when it is None.

    The producer id and key are JSON strings, so a line feed in them is
    escaped and cannot shift the lines, and an empty id (``""``) differs
    from None.

    Raises as ``canonical_string`` does. Raises TypeError when the producer
    or key is neither a str nor None, when ``headers`` is not a mapping of
    str names to str values, or when ``deliver_at_ms`` is neither an int nor
    None. Raises ValueError when one of these strings has a lone surrogate,
    or when ``deliver_at_ms`` is outside the range of a JavaScript Date.
    """
    lines = [
        canonical_string(queue, id, timestamp, "", data),
        _json_string_line("producer", producer),
        _json_string_line("key", key),
        data_digest(_producer_headers(headers)),
        _deliver_at_line(deliver_at_ms),
    ]
    return "\n".join(lines)


def _json_string_line(field: str, value: Optional[str]) -> str:
    if value is None:
        return ""
    _check_text(field, value, single_line=False)
    return canonical_json(value).decode("utf-8")


def _producer_headers(headers: Optional[Mapping[str, str]]) -> Dict[str, str]:
    """Return the headers without evq's own ``evq-`` headers, checked to be str names and values."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, not {type(headers).__name__}: {headers!r}.")

    # evq rejects producer header names that start with "evq-" in any case,
    # and like evq's producerHeaders this drops only the lowercase prefix.
    producer_headers: Dict[str, str] = {}
    for name, value in headers.items():
        _check_text("header name", name, single_line=False)
        _check_text(f"header {name!r}", value, single_line=False)
        if not name.startswith(_RESERVED_HEADER_PREFIX):
            producer_headers[name] = value
    return producer_headers


def _deliver_at_line(deliver_at_ms: Optional[int]) -> str:
    if deliver_at_ms is None:
        return ""
    # bool is a subclass of int but not a time.
    if not isinstance(deliver_at_ms, int) or isinstance(deliver_at_ms, bool):
        raise TypeError(
            f"deliver_at_ms must be an int of milliseconds since the Unix epoch or None, "
            f"not {type(deliver_at_ms).__name__}: {deliver_at_ms!r}."
        )
    if abs(deliver_at_ms) > _MAX_DATE_MS:
        raise ValueError(
            f"deliver_at_ms must be within {_MAX_DATE_MS} ms of the Unix epoch, "
            f"the range of a JavaScript Date, not {deliver_at_ms}."
        )
    return str(deliver_at_ms)


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
