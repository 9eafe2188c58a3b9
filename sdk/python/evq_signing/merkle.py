"""Merkle tree hashes of evq's batched storage signature (RFC 6962 section 2.1).

evq signs one Merkle root for all the messages that it seals together, and
each message carries the audit path from its leaf to that root. A leaf hash
is SHA-256 of 0x00 and the UTF-8 storage canonical string. An inner node is
SHA-256 of 0x01, the left child and the right child.
"""

from __future__ import annotations

import hashlib
from typing import Optional, Sequence

__all__ = ["HASH_SIZE", "SIGNED_ROOT_PREFIX", "leaf_hash", "root_from_path", "signed_root_text"]

HASH_SIZE = 32
"""Bytes in a leaf, node or root hash (SHA-256)."""

SIGNED_ROOT_PREFIX = "evq-v1m\n"
"""Text that precedes the lowercase hex root in what evq signs."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(text: str) -> bytes:
    """Hash UTF-8 text as a Merkle leaf: SHA-256 of 0x00 followed by the text.

    Raises TypeError when ``text`` is not a str and UnicodeEncodeError (a
    ValueError) when it contains a lone surrogate, which has no UTF-8 form.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}.")
    return hashlib.sha256(_LEAF_PREFIX + text.encode("utf-8")).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> Optional[bytes]:
    """Fold a leaf hash and its audit path into the root of a tree of ``size`` leaves.

    ``index`` is the leaf's position from 0, and ``path`` lists the sibling
    hashes from the leaf up. This is the inclusion proof verification of
    RFC 9162 section 2.1.3.2, without its final comparison: the caller checks
    the returned root against a signed one.

    Returns None when the path cannot belong to leaf ``index`` of a tree of
    ``size`` leaves. That is the case for an index or size that is not an
    int, an index outside ``0 <= index < size``, a path with too few or too
    many hashes, and a sibling that is not 32 bytes. Raises TypeError when
    ``leaf`` is not bytes and ValueError when it does not have 32 bytes.
    """
    if not isinstance(leaf, (bytes, bytearray, memoryview)):
        raise TypeError(f"leaf must be bytes, not {type(leaf).__name__}.")
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"leaf must have {HASH_SIZE} bytes, not {len(leaf)}.")
    for number in (index, size):
        if not isinstance(number, int) or isinstance(number, bool):
            return None
    if index < 0 or index >= size:
        return None

    # fn is the index of the current node within its level and sn the index
    # of that level's last node. The path has the length that the tree's
    # shape requires exactly when sn reaches 0 with its last sibling.
    fn = index
    sn = size - 1
    root = bytes(leaf)
    for sibling in path:
        if not isinstance(sibling, (bytes, bytearray, memoryview)) or len(sibling) != HASH_SIZE or sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            root = _node_hash(sibling, root)
            # The last node of a level without a right sibling moves up
            # unchanged, so skip the levels where it has no sibling.
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            root = _node_hash(root, sibling)
        fn //= 2
        sn //= 2

    if sn != 0:
        return None
    return root


def signed_root_text(root: bytes) -> str:
    """Return the text that evq signs for a tree: ``evq-v1m``, a line feed and the lowercase hex root."""
    return SIGNED_ROOT_PREFIX + bytes(root).hex()
