"""Sign and verify evq message signatures.

Producers sign what they publish with ``sign_v1`` (HMAC-SHA256 with a queue
key's secret) or ``sign_v1a`` (Ed25519) over ``canonical_string``. The format
is described in evq's docs/signatures.md.
"""

from .canonical import CANONICAL_VERSION, canonical_string, data_digest, storage_canonical_string
from .ed25519 import public_key as ed25519_public_key
from .jcs import canonical_json
from .signatures import sign_v1, sign_v1a, verify_v1, verify_v1a

__all__ = [
    "CANONICAL_VERSION",
    "canonical_json",
    "canonical_string",
    "data_digest",
    "ed25519_public_key",
    "sign_v1",
    "sign_v1a",
    "storage_canonical_string",
    "verify_v1",
    "verify_v1a",
]
