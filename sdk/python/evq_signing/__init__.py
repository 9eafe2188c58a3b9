"""Sign and verify evq message signatures.

Producers sign what they publish with ``sign_v1`` (HMAC-SHA256 with a queue
key's secret) or ``sign_v1a`` (Ed25519) over ``canonical_string``. Consumers
check evq's storage signature on each received message with
``verify_message``, which accepts a ``v1a`` signature of the message and a
``v1m`` signature of a Merkle root with the message's proof. The format is
described in evq's docs/signatures.md.
"""

from .canonical import CANONICAL_VERSION, canonical_string, data_digest, storage_canonical_string
from .consumer import SignatureVerificationError, public_keys_from_jwks, verify_message
from .dedup import DedupCache
from .ed25519 import public_key as ed25519_public_key
from .jcs import canonical_json
from .merkle import leaf_hash, root_from_path, signed_root_text
from .signatures import sign_v1, sign_v1a, verify_v1, verify_v1a, verify_v1m

__version__ = "0.1.0"

__all__ = [
    "CANONICAL_VERSION",
    "DedupCache",
    "SignatureVerificationError",
    "canonical_json",
    "canonical_string",
    "data_digest",
    "ed25519_public_key",
    "leaf_hash",
    "public_keys_from_jwks",
    "root_from_path",
    "sign_v1",
    "sign_v1a",
    "signed_root_text",
    "storage_canonical_string",
    "verify_message",
    "verify_v1",
    "verify_v1a",
    "verify_v1m",
]
