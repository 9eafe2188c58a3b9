import hashlib
import time
import unittest

from evq_signing import ed25519

# RFC 8032 section 7.1, TEST 1 to TEST 3: seed, public key, message, signature.
RFC_8032_VECTORS = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

# The neutral element (x = 0, y = 1), encoded canonically and in two
# non-canonical ways: y + p, and the sign bit set although x = 0.
IDENTITY = (1).to_bytes(32, "little")
IDENTITY_Y_PLUS_P = (ed25519.P + 1).to_bytes(32, "little")
IDENTITY_NEGATIVE_ZERO = (1 | 1 << 255).to_bytes(32, "little")
ZERO_SCALAR = bytes(32)


class Rfc8032VectorTest(unittest.TestCase):
    def test_public_keys_match(self):
        for name, seed, public_key, _, _ in RFC_8032_VECTORS:
            with self.subTest(vector=name):
                self.assertEqual(ed25519.public_key(bytes.fromhex(seed)).hex(), public_key)

    def test_signatures_match(self):
        for name, seed, _, message, signature in RFC_8032_VECTORS:
            with self.subTest(vector=name):
                self.assertEqual(ed25519.sign(bytes.fromhex(seed), bytes.fromhex(message)).hex(), signature)

    def test_signatures_verify(self):
        for name, _, public_key, message, signature in RFC_8032_VECTORS:
            with self.subTest(vector=name):
                self.assertTrue(
                    ed25519.verify(bytes.fromhex(public_key), bytes.fromhex(message), bytes.fromhex(signature))
                )

    def test_changed_message_fails(self):
        for name, _, public_key, message, signature in RFC_8032_VECTORS:
            with self.subTest(vector=name):
                changed = bytes.fromhex(message) + b"\x00"
                self.assertFalse(ed25519.verify(bytes.fromhex(public_key), changed, bytes.fromhex(signature)))


class Ed25519RejectionTest(unittest.TestCase):
    """Verification rejects malformed input, including forms that satisfy [S]B = R + [k]A."""

    def setUp(self):
        _, _, public_key, message, signature = RFC_8032_VECTORS[1]
        self.public_key = bytes.fromhex(public_key)
        self.message = bytes.fromhex(message)
        self.signature = bytes.fromhex(signature)

    def test_s_plus_order_rejected(self):
        # [S + L]B equals [S]B, so only the S < L check rejects this.
        s = int.from_bytes(self.signature[32:], "little")
        changed = self.signature[:32] + (s + ed25519.L).to_bytes(32, "little")
        self.assertFalse(ed25519.verify(self.public_key, self.message, changed))

    def test_identity_key_and_signature_verify(self):
        # With A and R the neutral element and S = 0, the equation holds for
        # any message. This is the control for the encoding tests below.
        self.assertTrue(ed25519.verify(IDENTITY, b"any", IDENTITY + ZERO_SCALAR))

    def test_non_canonical_r_rejected(self):
        for encoding in (IDENTITY_Y_PLUS_P, IDENTITY_NEGATIVE_ZERO):
            with self.subTest(r=encoding.hex()):
                self.assertFalse(ed25519.verify(IDENTITY, b"any", encoding + ZERO_SCALAR))

    def test_non_canonical_public_key_rejected(self):
        for encoding in (IDENTITY_Y_PLUS_P, IDENTITY_NEGATIVE_ZERO):
            with self.subTest(public_key=encoding.hex()):
                self.assertFalse(ed25519.verify(encoding, b"any", IDENTITY + ZERO_SCALAR))

    def test_point_off_curve_rejected(self):
        # No x satisfies the curve equation for y = 2.
        off_curve = (2).to_bytes(32, "little")
        self.assertFalse(ed25519.verify(off_curve, self.message, self.signature))
        self.assertFalse(ed25519.verify(self.public_key, self.message, off_curve + self.signature[32:]))

    def test_wrong_signature_length_rejected(self):
        self.assertFalse(ed25519.verify(self.public_key, self.message, self.signature[:63]))
        self.assertFalse(ed25519.verify(self.public_key, self.message, self.signature + b"\x00"))
        self.assertFalse(ed25519.verify(self.public_key, self.message, b""))

    def test_wrong_key_length_raises(self):
        with self.assertRaises(ValueError):
            ed25519.verify(self.public_key[:31], self.message, self.signature)
        with self.assertRaises(ValueError):
            ed25519.public_key(bytes(31))
        with self.assertRaises(ValueError):
            ed25519.sign(bytes(33), self.message)

    def test_non_bytes_key_raises(self):
        # bytes(32) would turn the int into 32 zero bytes.
        with self.assertRaises(TypeError):
            ed25519.verify(32, self.message, self.signature)
        with self.assertRaises(TypeError):
            ed25519.public_key("0" * 32)
        with self.assertRaises(TypeError):
            ed25519.sign(32, self.message)


class Ed25519RoundTripTest(unittest.TestCase):
    def test_derived_seeds_round_trip(self):
        for index in range(8):
            with self.subTest(index=index):
                seed = hashlib.sha256(b"round trip seed %d" % index).digest()
                message = hashlib.sha512(b"message %d" % index).digest()[: index * 9]
                signature = ed25519.sign(seed, message)
                public_key = ed25519.public_key(seed)
                self.assertTrue(ed25519.verify(public_key, message, signature))
                self.assertFalse(ed25519.verify(public_key, message + b"x", signature))

    def test_sign_and_verify_time(self):
        # A loose bound that catches an accidental slow path, such as a field
        # inversion in every point addition.
        seed = bytes(range(32))
        public_key = ed25519.public_key(seed)
        started = time.perf_counter()
        signature = ed25519.sign(seed, b"timing")
        self.assertTrue(ed25519.verify(public_key, b"timing", signature))
        self.assertLess(time.perf_counter() - started, 1.0)


if __name__ == "__main__":
    unittest.main()
