import base64
import hashlib
import unittest

from evq_signing import leaf_hash, root_from_path, signed_root_text, verify_v1m
from evq_signing import ed25519

from .vectors import load_vectors

VECTORS = load_vectors()
BATCHES = VECTORS["storageBatches"]
CASES_BY_NAME = {case["name"]: case for case in VECTORS["cases"]}
EVQ_SEED = bytes.fromhex(VECTORS["keys"]["evqEd25519"]["seedHex"])
EVQ_PUBLIC_KEY = bytes.fromhex(VECTORS["keys"]["evqEd25519"]["publicKeyHex"])
PRODUCER_PUBLIC_KEY = bytes.fromhex(VECTORS["keys"]["producerEd25519"]["publicKeyHex"])


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """Return the largest power of two below ``size`` (size > 1), where RFC 6962 splits a tree."""
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def tree_root(leaves: list) -> bytes:
    """Compute the RFC 6962 root of leaf hashes by the recursive definition, independently of the package."""
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(tree_root(leaves[:k]), tree_root(leaves[k:]))


def audit_path(leaves: list, index: int) -> list:
    """Return the RFC 6962 audit path of leaf ``index``: the sibling hashes from the leaf up."""
    if len(leaves) == 1:
        return []
    k = split_point(len(leaves))
    if index < k:
        return audit_path(leaves[:k], index) + [tree_root(leaves[k:])]
    return audit_path(leaves[k:], index - k) + [tree_root(leaves[:k])]


def parse_proof(proof: str) -> tuple:
    index, size, encoded = proof.split(":")
    path_bytes = base64.b64decode(encoded)
    return int(index), int(size), [path_bytes[start : start + 32] for start in range(0, len(path_bytes), 32)]


def leaves_of(batch: dict) -> list:
    return [bytes.fromhex(leaf) for leaf in batch["leaves"]]


def synthetic_leaves(size: int) -> list:
    return [leaf_hash(f"message {number}") for number in range(size)]


class StorageBatchVectorTest(unittest.TestCase):
    """Each storageBatches entry matches the vectors byte for byte."""

    def test_batches_cover_tree_shapes(self):
        sizes = {len(batch["cases"]) for batch in BATCHES}
        for required in (1, 2, 3, 5):
            self.assertIn(required, sizes)

    def test_leaves_match(self):
        for batch in BATCHES:
            for name, leaf in zip(batch["cases"], batch["leaves"]):
                with self.subTest(batch=batch["name"], case=name):
                    self.assertEqual(leaf_hash(CASES_BY_NAME[name]["storage"]["canonical"]).hex(), leaf)

    def test_one_leaf_per_case(self):
        for batch in BATCHES:
            with self.subTest(batch=batch["name"]):
                self.assertEqual(len(batch["leaves"]), len(batch["cases"]))
                self.assertEqual(len(batch["proofs"]), len(batch["cases"]))

    def test_root_matches(self):
        for batch in BATCHES:
            with self.subTest(batch=batch["name"]):
                self.assertEqual(tree_root(leaves_of(batch)).hex(), batch["root"])

    def test_signed_root_text_matches(self):
        for batch in BATCHES:
            with self.subTest(batch=batch["name"]):
                self.assertEqual(signed_root_text(bytes.fromhex(batch["root"])), batch["signedRoot"])

    def test_signature_signs_root_text(self):
        for batch in BATCHES:
            with self.subTest(batch=batch["name"]):
                signature = base64.b64decode(batch["signature"][len("v1m=") :])
                signed = batch["signedRoot"].encode("ascii")
                self.assertTrue(batch["signature"].startswith("v1m="))
                self.assertTrue(ed25519.verify(EVQ_PUBLIC_KEY, signed, signature))
                self.assertEqual(ed25519.sign(EVQ_SEED, signed), signature)

    def test_verify_v1m_accepts_signature(self):
        for batch in BATCHES:
            with self.subTest(batch=batch["name"]):
                self.assertTrue(verify_v1m(EVQ_PUBLIC_KEY, bytes.fromhex(batch["root"]), batch["signature"]))

    def test_proofs_match_audit_paths(self):
        for batch in BATCHES:
            leaves = leaves_of(batch)
            for index, proof in enumerate(batch["proofs"]):
                with self.subTest(batch=batch["name"], index=index):
                    path = base64.b64encode(b"".join(audit_path(leaves, index))).decode("ascii")
                    self.assertEqual(proof, f"{index}:{len(leaves)}:{path}")

    def test_every_proof_folds_to_root(self):
        for batch in BATCHES:
            leaves = leaves_of(batch)
            for proof in batch["proofs"]:
                with self.subTest(batch=batch["name"], proof=proof):
                    index, size, path = parse_proof(proof)
                    self.assertEqual(root_from_path(leaves[index], index, size, path), bytes.fromhex(batch["root"]))

    def test_one_message_root_is_leaf(self):
        batch = next(batch for batch in BATCHES if len(batch["cases"]) == 1)
        self.assertEqual(batch["root"], batch["leaves"][0])
        self.assertEqual(batch["proofs"], ["0:1:"])


class VerifyV1mTest(unittest.TestCase):
    BATCH = BATCHES[-1]
    ROOT = bytes.fromhex(BATCH["root"])

    def test_other_root_fails(self):
        other = bytes.fromhex(BATCHES[0]["root"])
        self.assertFalse(verify_v1m(EVQ_PUBLIC_KEY, other, self.BATCH["signature"]))

    def test_other_key_fails(self):
        self.assertFalse(verify_v1m(PRODUCER_PUBLIC_KEY, self.ROOT, self.BATCH["signature"]))

    def test_flipped_signature_bit_fails(self):
        for index in (0, 31, 32, 63):
            with self.subTest(index=index):
                signature = bytearray(base64.b64decode(self.BATCH["signature"][len("v1m=") :]))
                signature[index] ^= 0x01
                value = "v1m=" + base64.b64encode(bytes(signature)).decode("ascii")
                self.assertFalse(verify_v1m(EVQ_PUBLIC_KEY, self.ROOT, value))

    def test_malformed_values_fail(self):
        body = self.BATCH["signature"][len("v1m=") :]
        for value in ("v1a=" + body, body, "v1m=" + body[:-4], "v1m=" + body.rstrip("="), "v1m=", None, 42):
            with self.subTest(value=value):
                self.assertFalse(verify_v1m(EVQ_PUBLIC_KEY, self.ROOT, value))

    def test_wrong_root_length_raises(self):
        with self.assertRaisesRegex(ValueError, "32 bytes"):
            verify_v1m(EVQ_PUBLIC_KEY, self.ROOT[:31], self.BATCH["signature"])
        with self.assertRaisesRegex(TypeError, "must be bytes"):
            verify_v1m(EVQ_PUBLIC_KEY, self.BATCH["root"], self.BATCH["signature"])


class LeafHashTest(unittest.TestCase):
    def test_empty_leaf_is_sha256_of_zero_byte(self):
        self.assertEqual(leaf_hash("").hex(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")

    def test_text_encoded_as_utf8(self):
        self.assertEqual(leaf_hash("é"), hashlib.sha256(b"\x00\xc3\xa9").digest())

    def test_non_str_raises(self):
        with self.assertRaises(TypeError):
            leaf_hash(b"evq-v1")

    def test_lone_surrogate_raises(self):
        with self.assertRaises(UnicodeEncodeError):
            leaf_hash("\ud800")


class RootFromPathTest(unittest.TestCase):
    def test_every_leaf_of_small_trees(self):
        for size in range(1, 34):
            leaves = synthetic_leaves(size)
            root = tree_root(leaves)
            for index in range(size):
                with self.subTest(size=size, index=index):
                    self.assertEqual(root_from_path(leaves[index], index, size, audit_path(leaves, index)), root)

    def test_other_index_never_reaches_root(self):
        for size in range(2, 18):
            leaves = synthetic_leaves(size)
            root = tree_root(leaves)
            for index in range(size):
                path = audit_path(leaves, index)
                for other in range(size):
                    if other == index:
                        continue
                    with self.subTest(size=size, index=index, other=other):
                        self.assertNotEqual(root_from_path(leaves[index], other, size, path), root)

    def test_flipped_sibling_bit_changes_root(self):
        leaves = synthetic_leaves(5)
        path = audit_path(leaves, 2)
        for position in range(len(path)):
            with self.subTest(position=position):
                changed = list(path)
                changed[position] = bytes([changed[position][0] ^ 0x80]) + changed[position][1:]
                result = root_from_path(leaves[2], 2, 5, changed)
                self.assertIsNotNone(result)
                self.assertNotEqual(result, tree_root(leaves))

    def test_truncated_path_returns_none(self):
        leaves = synthetic_leaves(5)
        for index in range(5):
            with self.subTest(index=index):
                path = audit_path(leaves, index)
                self.assertIsNone(root_from_path(leaves[index], index, 5, path[:-1]))

    def test_extra_hash_returns_none(self):
        leaves = synthetic_leaves(5)
        for index in range(5):
            with self.subTest(index=index):
                path = audit_path(leaves, index) + [leaves[0]]
                self.assertIsNone(root_from_path(leaves[index], index, 5, path))

    def test_index_outside_tree_returns_none(self):
        leaves = synthetic_leaves(5)
        path = audit_path(leaves, 4)
        for index, size in ((5, 5), (6, 5), (-1, 5), (0, 0)):
            with self.subTest(index=index, size=size):
                self.assertIsNone(root_from_path(leaves[4], index, size, path))

    def test_size_with_other_shape_returns_none(self):
        leaves = synthetic_leaves(5)
        # Leaf 4 of 5 has one sibling. In a tree of 6 or 10 leaves it has two or four.
        path = audit_path(leaves, 4)
        for size in (6, 10):
            with self.subTest(size=size):
                self.assertIsNone(root_from_path(leaves[4], 4, size, path))

    def test_size_with_same_shape_reaches_root(self):
        # The root does not commit to the size: leaf 0 has three right
        # siblings in trees of 5 to 8 leaves, so each size folds alike.
        leaves = synthetic_leaves(5)
        path = audit_path(leaves, 0)
        for size in (6, 7, 8):
            with self.subTest(size=size):
                self.assertEqual(root_from_path(leaves[0], 0, size, path), tree_root(leaves))

    def test_non_int_index_or_size_returns_none(self):
        leaves = synthetic_leaves(2)
        path = audit_path(leaves, 1)
        for index, size in ((True, 2), (1.0, 2), ("1", 2), (1, 2.0), (1, None)):
            with self.subTest(index=index, size=size):
                self.assertIsNone(root_from_path(leaves[1], index, size, path))

    def test_sibling_of_wrong_length_returns_none(self):
        leaves = synthetic_leaves(2)
        for sibling in (leaves[1][:31], leaves[1] + b"\x00", "0" * 32):
            with self.subTest(sibling=sibling):
                self.assertIsNone(root_from_path(leaves[0], 0, 2, [sibling]))

    def test_invalid_leaf_raises(self):
        with self.assertRaisesRegex(ValueError, "32 bytes"):
            root_from_path(b"\x00" * 31, 0, 1, [])
        with self.assertRaisesRegex(TypeError, "must be bytes"):
            root_from_path("00" * 32, 0, 1, [])


if __name__ == "__main__":
    unittest.main()
