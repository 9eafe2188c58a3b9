"""Signature values: ``v1`` (HMAC-SHA256) and ``v1a`` (Ed25519) over a canonical string, ``v1m`` over a Merkle root."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Optional

from . import ed25519
from .merkle import HASH_SIZE, signed_root_text

__all__ = ["sign_v1", "sign_v1a", "verify_v1", "verify_v1a", "verify_v1m"]

_V1_PREFIX = "v1="
_V1A_PREFIX = "v1a="
_V1M_PREFIX = "v1m="


def sign_v1(secret: str, canonical: str) -> str:
    """Sign a canonical string with HMAC-SHA256 and return the ``v1=`` value.

    The key is the UTF-8 encoding of the queue key's secret exactly as evq
    returned it (``evq_qk_…``). The value is ``v1=`` followed by the standard
    base64 of the 32-byte MAC. Raises TypeError when the secret or the
    canonical string is not a str.
    """
    _check_str("secret", secret)
    _check_str("canonical", canonical)
    mac = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).digest()
    return _V1_PREFIX + base64.b64encode(mac).decode("ascii")


def verify_v1(secret: str, canonical: str, value: object) -> bool:
    """Return whether ``value`` is the ``v1=`` signature of the canonical string.

    The comparison takes the same time wherever the values differ. Returns
    False for a value of any other form, including one that is not a str.
    Raises TypeError when the secret or the canonical string is not a str.
    """
    if not isinstance(value, str):
        return False
    expected = sign_v1(secret, canonical).encode("utf-8")
    return hmac.compare_digest(expected, value.encode("utf-8", "surrogatepass"))


def sign_v1a(seed: bytes, canonical: str) -> str:
    """Sign a canonical string with Ed25519 and return the ``v1a=`` value.

    ``seed`` is the 32-byte Ed25519 private key seed (RFC 8032). The value is
    ``v1a=`` followed by the standard base64 of the 64-byte signature. Raises
    TypeError when the seed is not bytes and ValueError when it does not
    have 32 bytes.
    """
    _check_str("canonical", canonical)
    signature = ed25519.sign(seed, canonical.encode("utf-8"))
    return _V1A_PREFIX + base64.b64encode(signature).decode("ascii")


def verify_v1a(public_key: bytes, canonical: str, value: object) -> bool:
    """Return whether ``value`` is a valid ``v1a=`` signature of the canonical string.

    ``public_key`` is the 32-byte raw Ed25519 public key. Returns False for a
    value that is not a str, lacks the ``v1a=`` prefix, is not canonical
    standard base64 with padding, or does not decode to 64 bytes. Raises
    TypeError when the public key is not bytes and ValueError when it does
    not have 32 bytes.
    """
    _check_str("canonical", canonical)
    public_key = ed25519._require_key_bytes("public key", public_key)

    signature = _decode_value(value, _V1A_PREFIX)
    if signature is None or len(signature) != 64:
        return False
    return ed25519.verify(public_key, canonical.encode("utf-8"), signature)


def verify_v1m(public_key: bytes, root: bytes, value: object) -> bool:
    """Return whether ``value`` is a valid ``v1m=`` signature of a Merkle root.

    evq signs ``signed_root_text(root)``: ``evq-v1m``, a line feed and the
    lowercase hex of the 32-byte root. ``public_key`` is the 32-byte raw
    Ed25519 public key. Returns False for a value that is not a str, lacks
    the ``v1m=`` prefix, is not canonical standard base64 with padding, or
    does not decode to 64 bytes. Raises TypeError when the public key or the
    root is not bytes and ValueError when either does not have 32 bytes.
    """
    public_key = ed25519._require_key_bytes("public key", public_key)
    if not isinstance(root, (bytes, bytearray, memoryview)):
        raise TypeError(f"root must be bytes, not {type(root).__name__}.")
    if len(root) != HASH_SIZE:
        raise ValueError(f"root must have {HASH_SIZE} bytes, not {len(root)}.")

    signature = _decode_value(value, _V1M_PREFIX)
    if signature is None or len(signature) != 64:
        return False
    return ed25519.verify(public_key, signed_root_text(root).encode("ascii"), signature)


def _decode_value(value: object, prefix: str) -> Optional[bytes]:
    """Return the bytes of ``<prefix><standard base64>``, or None when the value has another form."""
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    return _decode_base64(value[len(prefix) :])


def _decode_base64(text: str) -> Optional[bytes]:
    """Return the bytes of canonical standard base64 with padding, or None for any other text."""
    try:
        decoded = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    # b64decode ignores the unused bits of the last character, so several
    # strings decode to the same bytes. Only the one that b64encode writes is
    # accepted, which makes each signature and proof have a single valid value.
    if base64.b64encode(decoded).decode("ascii") != text:
        return None
    return decoded


def _check_str(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}.")
