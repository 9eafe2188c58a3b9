"""JSON Canonicalization Scheme (JCS, RFC 8785).

The output matches what JavaScript's ``JSON.stringify`` writes for the same
value after object members are sorted, so a payload hashes to the same bytes
in every language.
"""

from __future__ import annotations

import math
import re
from typing import List, Tuple

__all__ = ["canonical_json"]

# JSON.stringify escapes these characters and writes every other one as is,
# including U+007F and U+2028.
_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x20)}
_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\b"): "\\b",
        ord("\f"): "\\f",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
    }
)

# A Python str contains code points, so any code point in the surrogate range
# is a lone surrogate, because json.loads joins an escaped pair into one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def canonical_json(value: object) -> bytes:
    """Return the RFC 8785 (JCS) serialization of a parsed JSON value as UTF-8.

    Accepts what ``json.loads`` returns: dict with str keys, list, str, int,
    float, bool and None. A tuple is written as an array. Object members are
    sorted by the UTF-16 code units of their names. Numbers are written as
    ECMAScript's Number::toString writes the IEEE 754 double nearest to them,
    so an int beyond 2**53 loses precision as it does in JavaScript's
    ``JSON.parse``, and -0 is written as ``0``.

    Raises ValueError for NaN, infinities, ints too large for a double and
    strings with lone surrogates, TypeError for other types and non-str keys,
    and RecursionError for values nested deeper than the interpreter's
    recursion limit.
    """
    parts: List[str] = []
    _write_value(value, parts)
    return "".join(parts).encode("utf-8")


def _write_value(value: object, parts: List[str]) -> None:
    # bool is a subclass of int, so it is tested first.
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_format_string(value))
    elif isinstance(value, (int, float)):
        parts.append(_format_number(value))
    elif isinstance(value, dict):
        _write_object(value, parts)
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write_value(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"JSON has no form for a value of type {type(value).__name__}: {value!r}.")


def _write_object(value: dict, parts: List[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be str, not {type(key).__name__}: {key!r}.")
        _check_surrogates(key)

    parts.append("{")
    for index, key in enumerate(sorted(value, key=_utf16_sort_key)):
        if index:
            parts.append(",")
        parts.append(_format_string(key))
        parts.append(":")
        _write_value(value[key], parts)
    parts.append("}")


def _utf16_sort_key(key: str) -> bytes:
    # Big-endian code units compare bytewise in code unit order. This differs
    # from code point order when a name has characters above U+FFFF, whose
    # surrogates (D800-DFFF) sort before U+E000-U+FFFF.
    return key.encode("utf-16-be")


def _check_surrogates(text: str) -> None:
    match = _SURROGATE.search(text)
    if match is not None:
        raise ValueError(
            f"JSON text must be valid Unicode, but this string has a lone surrogate "
            f"U+{ord(match.group()):04X} at index {match.start()}: {text!r}."
        )


def _format_string(text: str) -> str:
    _check_surrogates(text)
    return '"' + text.translate(_ESCAPES) + '"'


def _format_number(number: float) -> str:
    """Return ECMAScript's Number::toString of the double nearest to ``number``."""
    # float() also turns a subclass into a plain float, whose repr() is known.
    try:
        number = float(number)
    except OverflowError:
        raise ValueError(f"The integer {number} is too large for a JSON number (an IEEE 754 double).") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"JSON has no form for {number}.")
    if number == 0:
        return "0"
    if number < 0:
        return "-" + _format_number(-number)

    digits, point = _shortest_digits(number)
    return _layout_number(digits, point)


def _shortest_digits(number: float) -> Tuple[str, int]:
    """Return the shortest round-trip decimal digits of a positive double and the point position.

    The value is 0.<digits> * 10**point. repr() of a float gives the shortest
    digits that read back as the same double, and of those the nearest one,
    which is the choice that Number::toString makes too.
    """
    mantissa, _, exponent = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)

    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    return significant.rstrip("0"), point


def _layout_number(digits: str, point: int) -> str:
    """Return the digits laid out as ECMAScript's Number::toString does.

    The value is 0.<digits> * 10**point. The form is plain for
    -6 < point <= 21 and exponential otherwise.
    """
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits

    exponent = point - 1
    sign = "+" if exponent > 0 else "-"
    mantissa = digits if count == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(exponent)}"
