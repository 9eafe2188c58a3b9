"""Ed25519 signatures (RFC 8032, section 5.1) in pure Python.

Points on edwards25519 are kept in extended homogeneous coordinates (X, Y, Z, T)
with x = X/Z, y = Y/Z and x*y = T/Z, so addition and doubling need no field
inversion. Only encoding a point inverts Z.

NOTE: Python integers do not run in constant time, so the time that signing
takes depends on the private key. Verifying handles public data only.
"""

from __future__ import annotations

import hashlib
from typing import Optional, Tuple

__all__ = ["public_key", "sign", "verify"]

Point = Tuple[int, int, int, int]

# Field prime p, curve constant d of -x^2 + y^2 = 1 + d*x^2*y^2, and the prime
# order L of the base point (RFC 8032, section 5.1).
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
L = 2**252 + 27742317777372353535851937790883648493

_TWO_D = 2 * D % P
_SQRT_MINUS_ONE = pow(2, (P - 1) // 4, P)
_IDENTITY: Point = (0, 1, 1, 0)


def _add(first: Point, second: Point) -> Point:
    x1, y1, z1, t1 = first
    x2, y2, z2, t2 = second
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * _TWO_D * t2 % P
    d = 2 * z1 * z2 % P
    e = b - a
    f = d - c
    g = d + c
    h = b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _double(point: Point) -> Point:
    x1, y1, z1, _ = point
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _multiply(scalar: int, point: Point) -> Point:
    # Double-and-add from the most significant bit.
    result = _IDENTITY
    for bit in bin(scalar)[2:]:
        result = _double(result)
        if bit == "1":
            result = _add(result, point)
    return result


def _equal(first: Point, second: Point) -> bool:
    x1, y1, z1, _ = first
    x2, y2, z2, _ = second
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _encode(point: Point) -> bytes:
    x, y, z, _ = point
    z_inverse = pow(z, P - 2, P)
    x = x * z_inverse % P
    y = y * z_inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _recover_x(y: int, x_parity: int) -> Optional[int]:
    """Return the x with low bit ``x_parity`` of the curve point at ``y``, or None if there is none."""
    # x^2 = u/v. The candidate root (u/v)^((p+3)/8) is computed without an
    # inversion as u*v^3 * (u*v^7)^((p-5)/8), as RFC 8032 section 5.1.3 shows.
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    check = v * x * x % P
    if check == (-u) % P:
        x = x * _SQRT_MINUS_ONE % P
    elif check != u:
        return None
    if x == 0 and x_parity == 1:
        return None
    if x & 1 != x_parity:
        x = P - x
    return x


def _decode(encoded: bytes) -> Optional[Point]:
    """Return the point with this 32-byte encoding, or None when it is not a canonical point encoding."""
    number = int.from_bytes(encoded, "little")
    y = number & ((1 << 255) - 1)
    if y >= P:
        return None
    x = _recover_x(y, number >> 255)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


# The base point B has y = 4/5 and an even x.
_BASE: Point = _decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))  # type: ignore[assignment]


def _require_key_bytes(name: str, value: bytes) -> bytes:
    """Return a 32-byte seed or public key as bytes, or raise TypeError or ValueError naming it."""
    # bytes(32) would make 32 zero bytes, so ints are rejected before converting.
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"An Ed25519 {name} must be bytes, not {type(value).__name__}.")
    value = bytes(value)
    if len(value) != 32:
        raise ValueError(f"An Ed25519 {name} has 32 bytes, not {len(value)}.")
    return value


def _hash_to_scalar(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % L


def _expand_seed(seed: bytes) -> Tuple[int, bytes]:
    """Return the clamped secret scalar and the nonce prefix derived from a seed."""
    seed = _require_key_bytes("seed", seed)
    digest = hashlib.sha512(seed).digest()
    # Clamping clears the 3 low bits, which makes the scalar a multiple of the
    # cofactor 8. It also clears bit 255 and sets bit 254.
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return scalar, digest[32:]


def public_key(seed: bytes) -> bytes:
    """Return the 32-byte public key of a 32-byte Ed25519 seed.

    Raises TypeError when the seed is not bytes and ValueError when it does
    not have 32 bytes.
    """
    scalar, _ = _expand_seed(seed)
    return _encode(_multiply(scalar, _BASE))


def sign(seed: bytes, message: bytes) -> bytes:
    """Sign a message with a 32-byte Ed25519 seed and return the 64-byte signature.

    The signature is deterministic, because the nonce is a hash of the seed
    and the message. Raises TypeError when the seed is not bytes and
    ValueError when it does not have 32 bytes.
    """
    scalar, prefix = _expand_seed(seed)
    message = bytes(message)
    encoded_public_key = _encode(_multiply(scalar, _BASE))

    nonce = _hash_to_scalar(prefix, message)
    encoded_r = _encode(_multiply(nonce, _BASE))
    challenge = _hash_to_scalar(encoded_r, encoded_public_key, message)
    s = (nonce + challenge * scalar) % L
    return encoded_r + s.to_bytes(32, "little")


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return whether a 64-byte signature of the message verifies with a public key.

    Checks the cofactorless equation [S]B = R + [k]A. Returns False when the
    signature does not have 64 bytes, when S >= L, or when R or the public key
    is not a canonical point encoding. Raises TypeError when the public key
    is not bytes and ValueError when it does not have 32 bytes.
    """
    public_key = _require_key_bytes("public key", public_key)
    signature = bytes(signature)
    if len(signature) != 64:
        return False

    a = _decode(public_key)
    r = _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False

    challenge = _hash_to_scalar(signature[:32], public_key, bytes(message))
    return _equal(_multiply(s, _BASE), _add(r, _multiply(challenge, a)))
