import base64
import json
import unittest

from evq_signing import (
    canonical_json,
    canonical_string,
    data_digest,
    ed25519_public_key,
    sign_v1,
    sign_v1a,
    storage_canonical_string,
    verify_v1,
    verify_v1a,
)

from .vectors import load_vectors

VECTORS = load_vectors()
KEYS = VECTORS["keys"]
CASES = VECTORS["cases"]
HMAC_SECRET = KEYS["hmacSecret"]
PRODUCER_SEED = bytes.fromhex(KEYS["producerEd25519"]["seedHex"])
PRODUCER_PUBLIC_KEY = bytes.fromhex(KEYS["producerEd25519"]["publicKeyHex"])
EVQ_SEED = bytes.fromhex(KEYS["evqEd25519"]["seedHex"])
EVQ_PUBLIC_KEY = bytes.fromhex(KEYS["evqEd25519"]["publicKeyHex"])


def fields_of(case: dict) -> dict:
    """Return the signed fields of a vector case, with its payload parsed."""
    return {
        "queue": case["queue"],
        "id": case["id"],
        "timestamp": case["timestamp"],
        "nonce": case["nonce"],
        "data": json.loads(case["dataJson"]),
    }


def stored_fields_of(case: dict) -> dict:
    """Return the fields of a vector case that only evq's storage signature covers."""
    return {
        "producer": case["producer"],
        "key": case["key"],
        "headers": case["headers"],
        "deliver_at_ms": case["deliverAt"],
    }


def storage_string_of(case: dict, **changes) -> str:
    fields = {**fields_of(case), **stored_fields_of(case), **changes}
    return storage_canonical_string(
        fields["queue"],
        fields["id"],
        fields["timestamp"],
        fields["data"],
        fields["producer"],
        fields["key"],
        fields["headers"],
        fields["deliver_at_ms"],
    )


def producer_string_of(case: dict, **changes) -> str:
    fields = {**fields_of(case), **changes}
    return canonical_string(fields["queue"], fields["id"], fields["timestamp"], fields["nonce"], fields["data"])


class VectorOutputTest(unittest.TestCase):
    """Each output of each case matches the vectors byte for byte."""

    def test_cases_cover_required_kinds(self):
        names = {case["name"] for case in CASES}
        for required in ["unicode strings and keys", "numbers", "nested objects and arrays", "empty strings"]:
            self.assertIn(required, names)

    def test_cases_cover_stored_fields(self):
        self.assertTrue(any(case["producer"] == "" for case in CASES))
        self.assertTrue(any(case["key"] is None for case in CASES))
        self.assertTrue(any(case["key"] is not None and '"' in case["key"] for case in CASES))
        self.assertTrue(any(case["headers"] == {} for case in CASES))
        self.assertTrue(any(len(case["headers"]) > 1 for case in CASES))
        self.assertTrue(any(case["deliverAt"] is None for case in CASES))
        self.assertTrue(any(case["deliverAt"] == 0 for case in CASES))

    def test_public_keys_match_seeds(self):
        self.assertEqual(ed25519_public_key(PRODUCER_SEED), PRODUCER_PUBLIC_KEY)
        self.assertEqual(ed25519_public_key(EVQ_SEED), EVQ_PUBLIC_KEY)

    def test_jcs_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(canonical_json(fields_of(case)["data"]), case["jcs"].encode("utf-8"))

    def test_data_digest_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(data_digest(fields_of(case)["data"]), case["dataSha256"])

    def test_canonical_string_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(producer_string_of(case), case["canonical"])

    def test_storage_canonical_string_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(storage_string_of(case), case["storage"]["canonical"])

    def test_v1_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(sign_v1(HMAC_SECRET, case["canonical"]), case["v1"])

    def test_v1a_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(sign_v1a(PRODUCER_SEED, case["canonical"]), case["v1a"])

    def test_storage_signature_matches(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertEqual(sign_v1a(EVQ_SEED, case["storage"]["canonical"]), case["storage"]["signature"])


class VectorVerifyTest(unittest.TestCase):
    """The vector signatures verify, and fail once anything they cover changes."""

    def test_v1_verifies(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertTrue(verify_v1(HMAC_SECRET, case["canonical"], case["v1"]))

    def test_v1a_verifies(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertTrue(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], case["v1a"]))

    def test_storage_signature_verifies(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                self.assertTrue(verify_v1a(EVQ_PUBLIC_KEY, case["storage"]["canonical"], case["storage"]["signature"]))

    def test_changed_fields_fail(self):
        changes = {
            "data": lambda case: {"changed": fields_of(case)["data"]},
            "queue": lambda case: case["queue"] + "x",
            "id": lambda case: case["id"] + "x",
            "timestamp": lambda case: case["timestamp"] + 1,
        }
        for case in CASES:
            for field, change in changes.items():
                with self.subTest(case=case["name"], field=field):
                    canonical = producer_string_of(case, **{field: change(case)})
                    storage = storage_string_of(case, **{field: change(case)})
                    self.assertFalse(verify_v1(HMAC_SECRET, canonical, case["v1"]))
                    self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, canonical, case["v1a"]))
                    self.assertFalse(verify_v1a(EVQ_PUBLIC_KEY, storage, case["storage"]["signature"]))

    def test_changed_nonce_fails(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                canonical = producer_string_of(case, nonce=case["nonce"] + "x")
                self.assertFalse(verify_v1(HMAC_SECRET, canonical, case["v1"]))
                self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, canonical, case["v1a"]))

    def test_changed_stored_fields_fail(self):
        changes = {
            "producer": lambda case: (case["producer"] or "") + "x",
            "no producer": lambda case: None if case["producer"] is not None else "",
            "key": lambda case: (case["key"] or "") + "x",
            "no key": lambda case: None if case["key"] is not None else "",
            "headers": lambda case: {**case["headers"], "added": "x"},
            "no headers": lambda case: {} if case["headers"] else {"added": ""},
            "deliver_at_ms": lambda case: (case["deliverAt"] or 0) + 1,
            "no deliver_at_ms": lambda case: None if case["deliverAt"] is not None else 0,
        }
        for case in CASES:
            for name, change in changes.items():
                field = name.removeprefix("no ")
                with self.subTest(case=case["name"], change=name):
                    storage = storage_string_of(case, **{field: change(case)})
                    self.assertFalse(verify_v1a(EVQ_PUBLIC_KEY, storage, case["storage"]["signature"]))

    def test_changed_header_value_fails(self):
        for case in CASES:
            for name in case["headers"]:
                with self.subTest(case=case["name"], header=name):
                    headers = {**case["headers"], name: case["headers"][name] + "x"}
                    storage = storage_string_of(case, headers=headers)
                    self.assertFalse(verify_v1a(EVQ_PUBLIC_KEY, storage, case["storage"]["signature"]))

    def test_other_key_fails(self):
        case = CASES[0]
        self.assertFalse(verify_v1(HMAC_SECRET + "x", case["canonical"], case["v1"]))
        self.assertFalse(verify_v1a(EVQ_PUBLIC_KEY, case["canonical"], case["v1a"]))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["storage"]["canonical"], case["storage"]["signature"]))

    def test_truncated_signature_fails(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                # Dropping 4 characters keeps valid base64 of fewer bytes.
                self.assertFalse(verify_v1(HMAC_SECRET, case["canonical"], case["v1"][:-4]))
                self.assertFalse(verify_v1(HMAC_SECRET, case["canonical"], case["v1"][:-1]))
                self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], case["v1a"][:-4]))
                self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], case["v1a"][:-1]))
                self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1a="))

    def test_flipped_signature_bit_fails(self):
        for case in CASES:
            with self.subTest(case=case["name"]):
                for index in (0, 31, 32, 63):
                    signature = bytearray(base64.b64decode(case["v1a"][len("v1a=") :]))
                    signature[index] ^= 0x01
                    value = "v1a=" + base64.b64encode(bytes(signature)).decode("ascii")
                    self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], value))

    def test_non_base64_fails(self):
        case = CASES[0]
        v1_body = case["v1"][len("v1=") :]
        v1a_body = case["v1a"][len("v1a=") :]
        self.assertFalse(verify_v1(HMAC_SECRET, case["canonical"], "v1=!" + v1_body[1:]))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1a=!" + v1a_body[1:]))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1a=" + v1a_body.rstrip("=")))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1a= " + v1a_body))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1a=" + v1a_body + "\n"))
        urlsafe = v1a_body.replace("+", "-").replace("/", "_")
        if urlsafe != v1a_body:
            self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1a=" + urlsafe))

    def test_unused_base64_bits_fail(self):
        case = CASES[0]
        body = case["v1a"][len("v1a=") :]
        # 64 bytes end in "XY==", where Y carries 2 data bits and 4 unused
        # bits. Setting an unused bit decodes to the same bytes.
        last = body[-3]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        changed = alphabet[alphabet.index(last) | 0b01]
        self.assertNotEqual(changed, last)
        value = "v1a=" + body[:-3] + changed + "=="
        self.assertEqual(base64.b64decode(value[len("v1a=") :]), base64.b64decode(body))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], value))

    def test_wrong_prefix_fails(self):
        case = CASES[0]
        self.assertFalse(verify_v1(HMAC_SECRET, case["canonical"], "v1a=" + case["v1"][len("v1=") :]))
        self.assertFalse(verify_v1(HMAC_SECRET, case["canonical"], case["v1"][len("v1=") :]))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "v1=" + case["v1a"][len("v1a=") :]))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], case["v1a"][len("v1a=") :]))
        self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], "V1A=" + case["v1a"][len("v1a=") :]))

    def test_non_str_value_fails(self):
        case = CASES[0]
        for value in (None, 42, case["v1a"].encode("ascii")):
            with self.subTest(value=value):
                self.assertFalse(verify_v1(HMAC_SECRET, case["canonical"], value))
                self.assertFalse(verify_v1a(PRODUCER_PUBLIC_KEY, case["canonical"], value))


if __name__ == "__main__":
    unittest.main()
