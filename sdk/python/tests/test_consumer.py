import base64
import copy
import json
import unittest

from evq_signing import SignatureVerificationError, public_keys_from_jwks, verify_message

from .vectors import load_vectors

VECTORS = load_vectors()
EVQ_KEY = VECTORS["keys"]["evqEd25519"]
EVQ_PUBLIC_KEY = bytes.fromhex(EVQ_KEY["publicKeyHex"])
KEYS_BY_KID = {EVQ_KEY["kid"]: EVQ_PUBLIC_KEY}


def message_of(case: dict) -> dict:
    """Return a vector case as a consumer receives it from evq."""
    return {
        "queue": case["queue"],
        "id": case["id"],
        "data": json.loads(case["dataJson"]),
        "producer": case["producer"],
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
        before = copy.deepcopy(message)
        verify_message(message, KEYS_BY_KID)
        self.assertEqual(message, before)


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
