"""Verification of evq's storage signature on received messages, with keys from evq's JWK Set."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from .canonical import storage_canonical_string
from .merkle import HASH_SIZE, leaf_hash, root_from_path
from .signatures import _decode_base64, verify_v1a, verify_v1m

__all__ = ["SignatureVerificationError", "public_keys_from_jwks", "verify_message"]

_BASE64URL = re.compile("[A-Za-z0-9_-]*")

# <index>:<size>:<standard base64 of the audit path>, with decimal numbers
# of at most 16 digits and no leading zeros.
_PROOF = re.compile("(0|[1-9][0-9]{0,15}):(0|[1-9][0-9]{0,15}):([A-Za-z0-9+/=]*)")

# Number.MAX_SAFE_INTEGER, the largest index or size that rootFromPath in
# evq's src/signing/merkle.ts accepts.
_MAX_PROOF_NUMBER = 2**53 - 1

# An RFC 3339 date-time, as evq's GraphQL DateTime and REST API write
# deliverAt: Date.prototype.toISOString's form, such as
# 2026-01-01T01:00:00.000Z, or another offset and number of fraction digits.
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class SignatureVerificationError(Exception):
    """A received message whose storage signature is missing, malformed or invalid.

    ``code`` is one of:

    - ``SIGNATURE_MISSING``: the message has no ``signature``.
    - ``INVALID_MESSAGE``: a field is missing or invalid, or the data has
      no canonical form.
    - ``UNKNOWN_KEY``: no public key has the signature's ``keyId``. evq may
      have rotated its key, so fetch ``/.well-known/jwks.json`` again.
    - ``INVALID_PROOF``: a ``v1m`` signature has no proof, a malformed
      proof, an index that is not below the size, or an audit path whose
      number of hashes does not fit that index and size.
    - ``SIGNATURE_INVALID``: the signature does not verify, so the message
      or its proof was changed or did not come from evq.

    ``message_id`` is the message's id, or None when it has none.
    """

    def __init__(self, code: str, message: str, message_id: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message_id = message_id


class _SignedMessage(NamedTuple):
    """The fields of a received message that evq's storage signature covers, checked for type."""

    queue: str
    id: str
    timestamp: int
    data: Any
    producer: Optional[str]
    key: Optional[str]
    headers: Optional[Mapping[str, str]]
    deliver_at_ms: Optional[int]
    key_id: str
    value: str
    proof: object


class _Proof(NamedTuple):
    """A parsed Merkle inclusion proof: the leaf's position, the number of leaves and the audit path."""

    index: int
    size: int
    path: List[bytes]


def verify_message(message: Mapping[str, Any], public_keys_by_kid: Mapping[str, bytes]) -> None:
    """Raise SignatureVerificationError unless evq's storage signature on a message verifies.

    ``message`` is a received message as a dict with ``queue``, ``id``,
    ``data`` (the parsed JSON payload), ``producer``, ``key``, ``headers``,
    ``deliverAt`` and ``signature``. The producer and key are each a str,
    or None or absent when there is none. ``headers`` is a dict of str
    values, or None or absent for none, and any ``evq-`` headers in it are
    left out. ``deliverAt`` is an RFC 3339 date-time string as evq's GraphQL
    and REST APIs return it, an int of milliseconds since the Unix epoch,
    or None or absent. The signature covers all of these, so a query that
    leaves out ``key``, ``headers`` or ``deliverAt`` fails for a message
    that has them. The signature is a dict with ``keyId``, ``timestamp``,
    ``nonce`` (empty for evq's signature), ``value`` and ``proof``.
    ``public_keys_by_kid`` maps each key id to its 32-byte raw Ed25519
    public key, as ``public_keys_from_jwks`` returns.

    A ``v1a=`` value is an Ed25519 signature of the storage canonical string,
    and its ``proof`` is ignored. A ``v1m=`` value signs the Merkle root of
    the messages that evq sealed together. Its ``proof`` is
    ``<index>:<size>:<standard base64 of the audit path>``, from which the
    root is computed with the message's leaf hash.

    NOTE: the signature covers the root but not the tree size. So a proof
    whose size is changed still verifies when the tree of that size has the
    same shape along the message's path, such as leaf 0 of 5 and of 8 leaves.
    The message is in the signed batch either way.

    The signature's timestamp is when evq stored the message. It is not
    compared with the clock, because a message can wait in a queue for days.
    The error's ``code`` names the check that failed, and its text names the field.
    Raises TypeError or ValueError when the public key for the signature's
    ``keyId`` is not 32 bytes.
    """
    signed = _read_signed_message(message)

    public_key = public_keys_by_kid.get(signed.key_id)
    if public_key is None:
        raise SignatureVerificationError(
            "UNKNOWN_KEY",
            f"No public key has id {signed.key_id!r}, which signed message {signed.id!r}. "
            "Fetch /.well-known/jwks.json again in case evq rotated its key.",
            signed.id,
        )

    try:
        canonical = storage_canonical_string(
            signed.queue,
            signed.id,
            signed.timestamp,
            signed.data,
            signed.producer,
            signed.key,
            signed.headers,
            signed.deliver_at_ms,
        )
    except (TypeError, ValueError) as error:
        raise SignatureVerificationError(
            "INVALID_MESSAGE", f"Message {signed.id!r} has no canonical form: {error}", signed.id
        ) from error

    if signed.value.startswith("v1m="):
        proof = _parse_proof(signed.proof, signed.id)
        root = root_from_path(leaf_hash(canonical), proof.index, proof.size, proof.path)
        if root is None:
            raise SignatureVerificationError(
                "INVALID_PROOF",
                f"The audit path in the proof of message {signed.id!r} has {len(proof.path)} hashes, "
                f"which does not fit leaf {proof.index} of a tree of {proof.size} leaves.",
                signed.id,
            )
        if not verify_v1m(public_key, root, signed.value):
            raise SignatureVerificationError(
                "SIGNATURE_INVALID",
                f"The storage signature of message {signed.id!r} in queue {signed.queue!r} does not verify "
                f"with key {signed.key_id!r} and its proof, so the message or its proof was changed "
                "or was not stored by evq.",
                signed.id,
            )
        return

    if not verify_v1a(public_key, canonical, signed.value):
        raise SignatureVerificationError(
            "SIGNATURE_INVALID",
            f"The storage signature of message {signed.id!r} in queue {signed.queue!r} does not verify "
            f"with key {signed.key_id!r}, so the message was changed or was not stored by evq.",
            signed.id,
        )


def _parse_proof(proof: object, message_id: str) -> _Proof:
    """Return the index, size and audit path of a ``v1m`` proof, or raise INVALID_PROOF."""
    if proof is None:
        raise SignatureVerificationError(
            "INVALID_PROOF",
            f"Message {message_id!r} has a v1m signature but no signature.proof, "
            "so its Merkle root cannot be computed.",
            message_id,
        )
    if not isinstance(proof, str):
        raise SignatureVerificationError(
            "INVALID_PROOF", f"The message's signature.proof must be a str, not {proof!r}.", message_id
        )

    match = _PROOF.fullmatch(proof)
    path_bytes = _decode_base64(match.group(3)) if match else None
    if match is None or path_bytes is None:
        raise SignatureVerificationError(
            "INVALID_PROOF",
            f"The proof of message {message_id!r} must be <index>:<size>:<standard base64 of the audit path>, "
            f"not {proof!r}.",
            message_id,
        )

    index = int(match.group(1))
    size = int(match.group(2))
    if size > _MAX_PROOF_NUMBER or index >= size:
        raise SignatureVerificationError(
            "INVALID_PROOF",
            f"The proof of message {message_id!r} has index {index} and size {size}, "
            f"but the index must be below the size and the size at most {_MAX_PROOF_NUMBER}.",
            message_id,
        )
    if len(path_bytes) % HASH_SIZE != 0:
        raise SignatureVerificationError(
            "INVALID_PROOF",
            f"The audit path in the proof of message {message_id!r} has {len(path_bytes)} bytes, "
            f"which is not a whole number of {HASH_SIZE}-byte hashes.",
            message_id,
        )

    path = [path_bytes[start : start + HASH_SIZE] for start in range(0, len(path_bytes), HASH_SIZE)]
    return _Proof(index, size, path)


def _read_signed_message(message: object) -> _SignedMessage:
    """Return the signed fields of a received message, or raise INVALID_MESSAGE or SIGNATURE_MISSING."""
    if not isinstance(message, Mapping):
        raise SignatureVerificationError(
            "INVALID_MESSAGE", f"The message must be a dict, not {type(message).__name__}."
        )
    message_id = message.get("id")
    message_id = message_id if isinstance(message_id, str) else None

    queue = _require(message, "queue", "a str", str, message_id)
    message_id = _require(message, "id", "a str", str, message_id)
    if "data" not in message:
        raise SignatureVerificationError("INVALID_MESSAGE", "The message has no data field.", message_id)
    producer = message.get("producer")
    if producer is not None and not isinstance(producer, str):
        raise _invalid_field("producer", "a str or null", producer, message_id)
    key = message.get("key")
    if key is not None and not isinstance(key, str):
        raise _invalid_field("key", "a str or null", key, message_id)
    headers = message.get("headers")
    if headers is not None and not isinstance(headers, Mapping):
        raise _invalid_field("headers", "an object of str values or null", headers, message_id)
    deliver_at_ms = _read_deliver_at(message.get("deliverAt"), message_id)

    signature = message.get("signature")
    if signature is None:
        raise SignatureVerificationError(
            "SIGNATURE_MISSING",
            f"Message {message_id!r} in queue {queue!r} has no signature, so it cannot be checked.",
            message_id,
        )
    if not isinstance(signature, Mapping):
        raise _invalid_field("signature", "an object", signature, message_id)
    key_id = _require(signature, "signature.keyId", "a str", str, message_id)
    timestamp = _require(signature, "signature.timestamp", "an int", int, message_id)
    nonce = _require(signature, "signature.nonce", "a str", str, message_id)
    value = _require(signature, "signature.value", "a str", str, message_id)
    if isinstance(timestamp, bool) or timestamp < 0:
        raise _invalid_field("signature.timestamp", "Unix seconds from 0 up", timestamp, message_id)
    if nonce != "":
        raise _invalid_field("signature.nonce", "empty in evq's storage signature", nonce, message_id)

    return _SignedMessage(
        queue,
        message_id,
        timestamp,
        message["data"],
        producer,
        key,
        headers,
        deliver_at_ms,
        key_id,
        value,
        signature.get("proof"),
    )


def _read_deliver_at(deliver_at: object, message_id: Optional[str]) -> Optional[int]:
    """Return a message's deliverAt in ms since the Unix epoch, or raise INVALID_MESSAGE."""
    expected = "an RFC 3339 date-time string in whole milliseconds, an int of ms since the Unix epoch, or null"
    if deliver_at is None:
        return None
    # bool is a subclass of int but not a time.
    if isinstance(deliver_at, int) and not isinstance(deliver_at, bool):
        return deliver_at
    if not isinstance(deliver_at, str):
        raise _invalid_field("deliverAt", expected, deliver_at, message_id)

    deliver_at_ms = _date_time_ms(deliver_at)
    if deliver_at_ms is None:
        raise _invalid_field("deliverAt", expected, deliver_at, message_id)
    return deliver_at_ms


def _date_time_ms(text: str) -> Optional[int]:
    """Return an RFC 3339 date-time in integer ms since the Unix epoch, or None when it is invalid.

    evq keeps deliverAt as a JavaScript Date, which has whole milliseconds,
    so a fraction with a non-zero digit after the third is invalid.
    Leap seconds (second 60) are invalid too, because Python's datetime has
    no form for them and toISOString never writes them. Years must have four
    digits. That is true of evq, which keeps deliverAt only when it lies between
    the time of publishing and the end of the queue's retention.
    """
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction = match.group(7) or ""
    if fraction[3:].strip("0"):
        return None

    offset = timedelta(0)
    if match.group(8) is not None:
        offset_hours, offset_minutes = int(match.group(9)), int(match.group(10))
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = timedelta(hours=offset_hours, minutes=offset_minutes)
        if match.group(8) == "-":
            offset = -offset

    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:
        return None
    return (moment - _EPOCH) // timedelta(milliseconds=1) + int(fraction[:3].ljust(3, "0"))


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> Dict[str, bytes]:
    """Return the Ed25519 public keys of a JWK Set (RFC 7517) by their ``kid``.

    ``jwks`` is the parsed JSON of evq's ``/.well-known/jwks.json``. RFC 7517
    section 5 recommends ignoring keys of a type the reader does not
    understand and keys with missing or invalid members. So a key is skipped
    unless its ``kty`` is ``OKP``, its ``crv`` is ``Ed25519``, it has a
    ``kid``, its ``use`` is ``sig`` or absent, and its ``x`` is 32 bytes of
    unpadded base64url.
    Raises ValueError when ``jwks`` is not an object with a ``keys`` list.
    """
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise ValueError("A JWK Set must be an object with a keys list.")

    public_keys: Dict[str, bytes] = {}
    for key in keys:
        if not isinstance(key, Mapping) or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
            continue
        kid = key.get("kid")
        raw = _decode_jwk_x(key.get("x"))
        if isinstance(kid, str) and kid != "" and key.get("use", "sig") == "sig" and raw is not None:
            public_keys[kid] = raw
    return public_keys


def _decode_jwk_x(x: object) -> Optional[bytes]:
    # 32 bytes take 43 characters of base64url without padding.
    if not isinstance(x, str) or len(x) != 43 or not _BASE64URL.fullmatch(x):
        return None
    return base64.urlsafe_b64decode(x + "=")


def _require(fields: Mapping[str, Any], path: str, expected: str, kind: type, message_id: Optional[str]) -> Any:
    """Return the field at the end of ``path``, or raise INVALID_MESSAGE when it is not a ``kind``."""
    value = fields.get(path.rpartition(".")[2])
    if not isinstance(value, kind):
        raise _invalid_field(path, expected, value, message_id)
    return value


def _invalid_field(field: str, expected: str, value: object, message_id: Optional[str]) -> SignatureVerificationError:
    return SignatureVerificationError(
        "INVALID_MESSAGE", f"The message's {field} must be {expected}, not {value!r}.", message_id
    )
