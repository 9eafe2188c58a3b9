import base64
import copy
import json
import unittest
from datetime import datetime, timedelta, timezone

from evq_signing import SignatureVerificationError, public_keys_from_jwks, verify_message

from .vectors import load_vectors

VECTORS = load_vectors()
EVQ_KEY = VECTORS["keys"]["evqEd25519"]
EVQ_PUBLIC_KEY = bytes.fromhex(EVQ_KEY["publicKeyHex"])
KEYS_BY_KID = {EVQ_KEY["kid"]: EVQ_PUBLIC_KEY}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso_of(ms):
    """Return ms since the Unix epoch as JavaScript's toISOString writes it, or None for None."""
    if ms is None:
        return None
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def message_of(case: dict) -> dict:
    """Return a vector case as a consumer receives it from evq's GraphQL API."""
    return {
        "queue": case["queue"],
        "id": case["id"],
        "data": json.loads(case["dataJson"]),
        "producer": case["producer"],
        "key": case["key"],
        "headers": dict(case["headers"]),
        "deliverAt": iso_of(case["deliverAt"]),
        "signature": {
            "keyId": EVQ_KEY["kid"],
            "timestamp": case["timestamp"],
            "nonce": "",
            "value": case["storage"]["signature"],
        },
    }


def jwk_of(public_key: bytes, kid: str, **members) -> dict:
    x = base64.urlsafe_b64encode(public_key).rstrip(b"=").decode("ascii")
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig", **members}


class VerifyMessageTest(unittest.TestCase):
    def assert_fails(self, message, code: str, text: str) -> None:
        with self.assertRaises(SignatureVerificationError) as raised:
            verify_message(message, KEYS_BY_KID)
        self.assertEqual(raised.exception.code, code)
        self.assertIn(text, str(raised.exception))

    def test_vector_messages_verify(self):
        for case in VECTORS["cases"]:
            with self.subTest(case=case["name"]):
                self.assertIsNone(verify_message(message_of(case), KEYS_BY_KID))

    def test_absent_producer_counts_as_none(self):
        case = next(case for case in VECTORS["cases"] if case["producer"] is None)
        message = message_of(case)
        del message["producer"]
        self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_absent_stored_fields_count_as_none(self):
        case = next(case for case in VECTORS["cases"] if case["key"] is None and case["deliverAt"] is None)
        self.assertEqual(case["headers"], {})
        for fields in (("key",), ("headers",), ("deliverAt",), ("producer", "key", "headers", "deliverAt")):
            with self.subTest(absent=fields):
                message = message_of(case)
                for field in fields:
                    del message[field]
                self.assertIsNone(verify_message(message, KEYS_BY_KID))
        message = message_of(case)
        message["headers"] = None
        self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_iso_of_matches_to_iso_string(self):
        self.assertEqual(iso_of(1767229200000), "2026-01-01T01:00:00.000Z")
        self.assertEqual(iso_of(1767225603999), "2026-01-01T00:00:03.999Z")
        self.assertEqual(iso_of(0), "1970-01-01T00:00:00.000Z")

    def test_int_deliver_at_verifies(self):
        for case in VECTORS["cases"]:
            if case["deliverAt"] is None:
                continue
            with self.subTest(case=case["name"]):
                message = message_of(case)
                message["deliverAt"] = case["deliverAt"]
                self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_other_date_time_forms_verify(self):
        # 1767229200000 ms is 2026-01-01T01:00:00Z.
        case = next(case for case in VECTORS["cases"] if case["deliverAt"] == 1767229200000)
        forms = [
            "2026-01-01T01:00:00Z",
            "2026-01-01T01:00:00.000000Z",
            "2026-01-01t01:00:00.000z",
            "2026-01-01T02:00:00.000+01:00",
            "2025-12-31T20:30:00-04:30",
        ]
        for form in forms:
            with self.subTest(deliverAt=form):
                message = message_of(case)
                message["deliverAt"] = form
                self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_evq_headers_ignored(self):
        for case in VECTORS["cases"]:
            with self.subTest(case=case["name"]):
                message = message_of(case)
                message["headers"]["evq-signature"] = "v1m=forged"
                message["headers"]["evq-proof"] = "0:1:"
                self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_changed_stored_fields_fail(self):
        changes = {
            "producer": lambda case, message: message.update(producer=(case["producer"] or "") + "x"),
            "no producer": lambda case, message: message.update(
                producer=None if case["producer"] is not None else ""
            ),
            "key": lambda case, message: message.update(key=(case["key"] or "") + "x"),
            "no key": lambda case, message: message.update(key=None if case["key"] is not None else ""),
            "added header": lambda case, message: message["headers"].update(added="x"),
            "no headers": lambda case, message: message.update(headers={} if case["headers"] else {"added": ""}),
            "deliverAt": lambda case, message: message.update(deliverAt=iso_of((case["deliverAt"] or 0) + 1)),
            "no deliverAt": lambda case, message: message.update(
                deliverAt=None if case["deliverAt"] is not None else iso_of(0)
            ),
        }
        for case in VECTORS["cases"]:
            for name, change in changes.items():
                with self.subTest(case=case["name"], change=name):
                    message = message_of(case)
                    change(case, message)
                    self.assert_fails(message, "SIGNATURE_INVALID", "does not verify")

    def test_changed_header_fails(self):
        for case in VECTORS["cases"]:
            for name in case["headers"]:
                with self.subTest(case=case["name"], header=name):
                    message = message_of(case)
                    message["headers"][name] += "x"
                    self.assert_fails(message, "SIGNATURE_INVALID", "does not verify")
                with self.subTest(case=case["name"], removed=name):
                    message = message_of(case)
                    del message["headers"][name]
                    self.assert_fails(message, "SIGNATURE_INVALID", "does not verify")
                with self.subTest(case=case["name"], renamed=name):
                    message = message_of(case)
                    message["headers"]["evq-" + name] = message["headers"].pop(name)
                    self.assert_fails(message, "SIGNATURE_INVALID", "does not verify")

    def test_changed_fields_fail(self):
        case = VECTORS["cases"][0]
        changes = {
            "queue": lambda message: message.update(queue="other"),
            "id": lambda message: message.update(id="other"),
            "data": lambda message: message["data"].update(amount=20),
            "producer": lambda message: message.update(producer="service:other"),
            "timestamp": lambda message: message["signature"].update(timestamp=case["timestamp"] + 1),
        }
        for field, change in changes.items():
            with self.subTest(field=field):
                message = message_of(case)
                change(message)
                self.assert_fails(message, "SIGNATURE_INVALID", "does not verify")

    def test_error_carries_message_id(self):
        message = message_of(VECTORS["cases"][0])
        message["data"] = {"forged": True}
        with self.assertRaises(SignatureVerificationError) as raised:
            verify_message(message, KEYS_BY_KID)
        self.assertEqual(raised.exception.message_id, "order-42")

    def test_malformed_signature_values_fail(self):
        case = VECTORS["cases"][0]
        value = case["storage"]["signature"]
        for changed in (value[:-4], "v1a=!" + value[5:], value[len("v1a=") :], "v1=" + value[len("v1a=") :], ""):
            with self.subTest(value=changed):
                message = message_of(case)
                message["signature"]["value"] = changed
                self.assert_fails(message, "SIGNATURE_INVALID", "does not verify")

    def test_missing_signature_fails(self):
        message = message_of(VECTORS["cases"][0])
        message["signature"] = None
        self.assert_fails(message, "SIGNATURE_MISSING", "has no signature")
        del message["signature"]
        self.assert_fails(message, "SIGNATURE_MISSING", "has no signature")

    def test_unknown_key_fails(self):
        message = message_of(VECTORS["cases"][0])
        message["signature"]["keyId"] = "rotated-away"
        self.assert_fails(message, "UNKNOWN_KEY", "'rotated-away'")

    def test_non_empty_nonce_fails(self):
        message = message_of(VECTORS["cases"][0])
        message["signature"]["nonce"] = "n-0001"
        self.assert_fails(message, "INVALID_MESSAGE", "signature.nonce must be empty")

    def test_invalid_fields_fail(self):
        case = VECTORS["cases"][0]
        changes = {
            "queue": (lambda message: message.pop("queue"), "queue must be a str"),
            "id": (lambda message: message.update(id=42), "id must be a str"),
            "data": (lambda message: message.pop("data"), "no data field"),
            "producer": (lambda message: message.update(producer=7), "producer must be a str or null"),
            "key": (lambda message: message.update(key=["customer-7"]), "key must be a str or null"),
            "headers": (lambda message: message.update(headers="source=checkout"), "headers must be an object"),
            "header value": (lambda message: message["headers"].update(source=1), "has no canonical form"),
            "float deliverAt": (
                lambda message: message.update(deliverAt=1767229200000.0),
                "deliverAt must be an RFC 3339 date-time string",
            ),
            "bool deliverAt": (lambda message: message.update(deliverAt=True), "deliverAt must be an RFC 3339"),
            "int deliverAt beyond Date range": (
                lambda message: message.update(deliverAt=10**16),
                "has no canonical form",
            ),
            "signature": (lambda message: message.update(signature="v1a=abc"), "signature must be an object"),
            "keyId": (lambda message: message["signature"].pop("keyId"), "signature.keyId must be a str"),
            "timestamp": (
                lambda message: message["signature"].update(timestamp="1767225600"),
                "signature.timestamp must be an int",
            ),
            "bool timestamp": (
                lambda message: message["signature"].update(timestamp=True),
                "signature.timestamp must be Unix seconds",
            ),
            "negative timestamp": (
                lambda message: message["signature"].update(timestamp=-1),
                "signature.timestamp must be Unix seconds",
            ),
            "value": (lambda message: message["signature"].update(value=None), "signature.value must be a str"),
            "NaN data": (lambda message: message.update(data=float("nan")), "has no canonical form"),
            "line feed in id": (lambda message: message.update(id="a\nb"), "has no canonical form"),
        }
        invalid_date_times = {
            "words": "tomorrow",
            "date only": "2026-01-01",
            "no offset": "2026-01-01T01:00:00",
            "space separator": "2026-01-01 01:00:00Z",
            "sub-millisecond": "2026-01-01T01:00:00.0001Z",
            "no such day": "2026-02-30T01:00:00Z",
            "leap second": "2026-12-31T23:59:60Z",
            "offset of 24 hours": "2026-01-01T01:00:00+24:00",
            "extended year": "+002026-01-01T01:00:00.000Z",
            "trailing space": "2026-01-01T01:00:00Z ",
        }
        for name, text in invalid_date_times.items():
            changes[f"deliverAt {name}"] = (
                lambda message, text=text: message.update(deliverAt=text),
                "deliverAt must be an RFC 3339 date-time string",
            )
        for name, (change, text) in changes.items():
            with self.subTest(field=name):
                message = message_of(case)
                change(message)
                self.assert_fails(message, "INVALID_MESSAGE", text)

    def test_non_dict_message_fails(self):
        self.assert_fails(["not", "a", "message"], "INVALID_MESSAGE", "must be a dict")

    def test_wrong_key_length_raises(self):
        message = message_of(VECTORS["cases"][0])
        with self.assertRaises(ValueError):
            verify_message(message, {EVQ_KEY["kid"]: EVQ_PUBLIC_KEY[:31]})

    def test_message_left_unchanged(self):
        message = message_of(VECTORS["cases"][1])
        message["headers"]["evq-proof"] = "0:1:"
        before = copy.deepcopy(message)
        verify_message(message, KEYS_BY_KID)
        self.assertEqual(message, before)


CASES_BY_NAME = {case["name"]: case for case in VECTORS["cases"]}
BATCHES = VECTORS["storageBatches"]
FIVE_MESSAGES = next(batch for batch in BATCHES if len(batch["cases"]) == 5)


def batch_message_of(batch: dict, position: int, proof=None) -> dict:
    """Return message ``position`` of a sealed batch as a consumer receives it, with its v1m signature and proof."""
    message = message_of(CASES_BY_NAME[batch["cases"][position]])
    message["signature"]["value"] = batch["signature"]
    message["signature"]["proof"] = batch["proofs"][position] if proof is None else proof
    return message


def proof_parts(proof: str) -> tuple:
    """Return the index, size and audit path hashes of a proof."""
    index, size, encoded = proof.split(":")
    path_bytes = base64.b64decode(encoded)
    return int(index), int(size), [path_bytes[start : start + 32] for start in range(0, len(path_bytes), 32)]


def proof_of(index: int, size: int, path: list) -> str:
    return f"{index}:{size}:{base64.b64encode(b''.join(path)).decode('ascii')}"


class VerifyBatchedMessageTest(unittest.TestCase):
    """verify_message with v1m signatures and Merkle proofs from the storageBatches vectors."""

    def assert_fails(self, message, codes: set) -> SignatureVerificationError:
        with self.assertRaises(SignatureVerificationError) as raised:
            verify_message(message, KEYS_BY_KID)
        self.assertIn(raised.exception.code, codes)
        self.assertEqual(raised.exception.message_id, message["id"])
        return raised.exception

    def test_every_batch_message_verifies(self):
        for batch in BATCHES:
            for position, name in enumerate(batch["cases"]):
                with self.subTest(batch=batch["name"], case=name):
                    self.assertIsNone(verify_message(batch_message_of(batch, position), KEYS_BY_KID))

    def test_flipped_sibling_bit_fails(self):
        for batch in BATCHES:
            for position, proof in enumerate(batch["proofs"]):
                index, size, path = proof_parts(proof)
                for sibling in range(len(path)):
                    for byte in (0, 31):
                        with self.subTest(batch=batch["name"], proof=proof, sibling=sibling, byte=byte):
                            changed = [bytearray(hash_) for hash_ in path]
                            changed[sibling][byte] ^= 0x01
                            message = batch_message_of(batch, position, proof_of(index, size, changed))
                            self.assert_fails(message, {"SIGNATURE_INVALID"})

    def test_wrong_index_fails(self):
        # An index with a path of the same length folds to another root, so
        # the signature fails. Any other index does not fit the path.
        for batch in BATCHES:
            for position, proof in enumerate(batch["proofs"]):
                index, size, path = proof_parts(proof)
                for other in range(size + 2):
                    if other == index:
                        continue
                    with self.subTest(batch=batch["name"], proof=proof, index=other):
                        message = batch_message_of(batch, position, proof_of(other, size, path))
                        self.assert_fails(message, {"SIGNATURE_INVALID", "INVALID_PROOF"})

    def test_index_not_below_size_fails(self):
        for batch in BATCHES:
            for position, proof in enumerate(batch["proofs"]):
                index, size, path = proof_parts(proof)
                with self.subTest(batch=batch["name"], proof=proof):
                    message = batch_message_of(batch, position, proof_of(size, size, path))
                    error = self.assert_fails(message, {"INVALID_PROOF"})
                    self.assertIn("must be below the size", str(error))

    def test_wrong_size_fails(self):
        # A size at or below the index is out of range, and twice the size
        # makes every path one level or more longer.
        for batch in BATCHES:
            for position, proof in enumerate(batch["proofs"]):
                index, size, path = proof_parts(proof)
                for other in (0, index, 2 * size):
                    with self.subTest(batch=batch["name"], proof=proof, size=other):
                        message = batch_message_of(batch, position, proof_of(index, other, path))
                        self.assert_fails(message, {"INVALID_PROOF"})

    def test_size_with_same_shape_verifies(self):
        # NOTE: evq signs the root but not the tree size, so the size is
        # checked only against the length and shape of the path.
        for other in (6, 7, 8):
            with self.subTest(size=other):
                index, _size, path = proof_parts(FIVE_MESSAGES["proofs"][0])
                message = batch_message_of(FIVE_MESSAGES, 0, proof_of(index, other, path))
                self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_truncated_path_fails(self):
        for batch in BATCHES:
            for position, proof in enumerate(batch["proofs"]):
                index, size, path = proof_parts(proof)
                if not path:
                    continue
                with self.subTest(batch=batch["name"], proof=proof):
                    message = batch_message_of(batch, position, proof_of(index, size, path[:-1]))
                    error = self.assert_fails(message, {"INVALID_PROOF"})
                    self.assertIn("does not fit leaf", str(error))

    def test_extra_hash_fails(self):
        for batch in BATCHES:
            for position, proof in enumerate(batch["proofs"]):
                index, size, path = proof_parts(proof)
                for extra in (bytes.fromhex(batch["root"]), bytes(32)):
                    with self.subTest(batch=batch["name"], proof=proof, extra=extra.hex()):
                        message = batch_message_of(batch, position, proof_of(index, size, path + [extra]))
                        error = self.assert_fails(message, {"INVALID_PROOF"})
                        self.assertIn("does not fit leaf", str(error))

    def test_proof_of_other_message_fails(self):
        batch = FIVE_MESSAGES
        for position in range(len(batch["cases"])):
            for other in range(len(batch["cases"])):
                if other == position:
                    continue
                with self.subTest(position=position, proof=other):
                    message = batch_message_of(batch, position, batch["proofs"][other])
                    self.assert_fails(message, {"SIGNATURE_INVALID"})

    def test_signature_of_other_batch_fails(self):
        message = batch_message_of(FIVE_MESSAGES, 0)
        message["signature"]["value"] = BATCHES[-1]["signature"]
        self.assert_fails(message, {"SIGNATURE_INVALID"})

    def test_changed_message_fails(self):
        changes = {
            "queue": lambda message: message.update(queue="other"),
            "data": lambda message: message.update(data={"forged": True}),
            "producer": lambda message: message.update(producer="service:other"),
            "key": lambda message: message.update(key="other"),
            "headers": lambda message: message["headers"].update(added="x"),
            "deliverAt": lambda message: message.update(deliverAt="2026-01-01T00:00:04.000Z"),
            "timestamp": lambda message: message["signature"].update(timestamp=message["signature"]["timestamp"] + 1),
        }
        for field, change in changes.items():
            with self.subTest(field=field):
                message = batch_message_of(FIVE_MESSAGES, 2)
                change(message)
                error = self.assert_fails(message, {"SIGNATURE_INVALID"})
                self.assertIn("does not verify", str(error))

    def test_malformed_proofs_fail(self):
        index, size, path = proof_parts(FIVE_MESSAGES["proofs"][2])
        proof = FIVE_MESSAGES["proofs"][2]
        encoded = proof.split(":")[2]
        # One 32-byte hash is 44 base64 characters ending in "=", and the
        # last data character carries 2 unused bits that b64decode ignores.
        one_hash = base64.b64encode(path[0]).decode("ascii")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        unused_bit_set = one_hash[:-2] + alphabet[alphabet.index(one_hash[-2]) ^ 0b01] + "="
        self.assertEqual(base64.b64decode(unused_bit_set), path[0])
        self.assertTrue(one_hash.endswith("="))
        self.assertNotEqual(encoded, encoded.replace("+", "-").replace("/", "_"))

        malformed = {
            "empty": ("", "must be <index>:<size>"),
            "no path": (f"{index}:{size}", "must be <index>:<size>"),
            "extra field": (proof + ":", "must be <index>:<size>"),
            "leading zero": (f"0{index}:{size}:{encoded}", "must be <index>:<size>"),
            "negative index": (f"-1:{size}:{encoded}", "must be <index>:<size>"),
            "17-digit size": (f"{index}:1{'0' * 16}:{encoded}", "must be <index>:<size>"),
            "size above 2**53 - 1": (f"{index}:9999999999999999:{encoded}", "size at most"),
            "zero size": (f"0:0:{encoded}", "must be below the size"),
            "space": (f"{index}:{size}: {encoded}", "must be <index>:<size>"),
            "unpadded base64": (f"{index}:{size}:{one_hash.rstrip('=')}", "must be <index>:<size>"),
            "base64url": (f"{index}:{size}:{encoded.replace('+', '-').replace('/', '_')}", "must be <index>:<size>"),
            "unused base64 bits set": (f"0:1:{unused_bit_set}", "must be <index>:<size>"),
            "31-byte path": (proof_of(index, size, [path[0][:31]]), "not a whole number of 32-byte hashes"),
        }
        for name, (changed, text) in malformed.items():
            with self.subTest(proof=name):
                message = batch_message_of(FIVE_MESSAGES, 2, changed)
                error = self.assert_fails(message, {"INVALID_PROOF"})
                self.assertIn(text, str(error))

    def test_missing_proof_fails(self):
        message = batch_message_of(FIVE_MESSAGES, 2)
        del message["signature"]["proof"]
        error = self.assert_fails(message, {"INVALID_PROOF"})
        self.assertIn("no signature.proof", str(error))
        message["signature"]["proof"] = None
        error = self.assert_fails(message, {"INVALID_PROOF"})
        self.assertIn("no signature.proof", str(error))

    def test_non_str_proof_fails(self):
        for proof in (42, [FIVE_MESSAGES["proofs"][2]], FIVE_MESSAGES["proofs"][2].encode("ascii")):
            with self.subTest(proof=proof):
                message = batch_message_of(FIVE_MESSAGES, 2)
                message["signature"]["proof"] = proof
                error = self.assert_fails(message, {"INVALID_PROOF"})
                self.assertIn("signature.proof must be a str", str(error))

    def test_v1a_signature_ignores_proof(self):
        message = message_of(VECTORS["cases"][0])
        message["signature"]["proof"] = "not a proof"
        self.assertIsNone(verify_message(message, KEYS_BY_KID))

    def test_unknown_key_checked_before_proof(self):
        message = batch_message_of(FIVE_MESSAGES, 2, "not a proof")
        message["signature"]["keyId"] = "rotated-away"
        self.assert_fails(message, {"UNKNOWN_KEY"})


class PublicKeysFromJwksTest(unittest.TestCase):
    def test_ed25519_keys_by_kid(self):
        other = bytes(range(32))
        jwks = {"keys": [jwk_of(EVQ_PUBLIC_KEY, "current"), jwk_of(other, "next")]}
        self.assertEqual(public_keys_from_jwks(jwks), {"current": EVQ_PUBLIC_KEY, "next": other})

    def test_keys_from_jwks_verify_message(self):
        jwks = {"keys": [jwk_of(EVQ_PUBLIC_KEY, EVQ_KEY["kid"])]}
        keys = public_keys_from_jwks(jwks)
        self.assertIsNone(verify_message(message_of(VECTORS["cases"][0]), keys))

    def test_unusable_keys_skipped(self):
        x = jwk_of(EVQ_PUBLIC_KEY, "k")["x"]
        skipped = [
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            jwk_of(EVQ_PUBLIC_KEY, "x448", crv="X448"),
            jwk_of(EVQ_PUBLIC_KEY, "encryption", use="enc"),
            jwk_of(EVQ_PUBLIC_KEY, ""),
            {"kty": "OKP", "crv": "Ed25519", "x": x},
            jwk_of(EVQ_PUBLIC_KEY, "short", x=x[:-1]),
            jwk_of(EVQ_PUBLIC_KEY, "padded", x=x + "="),
            jwk_of(EVQ_PUBLIC_KEY, "standard alphabet", x=x.replace("-", "+").replace("_", "/") + "+"),
            jwk_of(EVQ_PUBLIC_KEY, "not a string", x=None),
            "not an object",
        ]
        jwks = {"keys": skipped + [jwk_of(EVQ_PUBLIC_KEY, "good")]}
        self.assertEqual(public_keys_from_jwks(jwks), {"good": EVQ_PUBLIC_KEY})

    def test_use_may_be_absent(self):
        key = jwk_of(EVQ_PUBLIC_KEY, "k")
        del key["use"]
        self.assertEqual(public_keys_from_jwks({"keys": [key]}), {"k": EVQ_PUBLIC_KEY})

    def test_set_without_keys_list_raises(self):
        for jwks in ({}, {"keys": {}}, [], None):
            with self.subTest(jwks=jwks):
                with self.assertRaisesRegex(ValueError, "keys list"):
                    public_keys_from_jwks(jwks)


if __name__ == "__main__":
    unittest.main()
