import unittest

from evq_signing import CANONICAL_VERSION, canonical_string, data_digest, storage_canonical_string

EMPTY_OBJECT_DIGEST = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


class CanonicalStringTest(unittest.TestCase):
    def test_six_lines_without_trailing_newline(self):
        text = canonical_string("orders", "id-1", 1767225600, "n", {})
        self.assertEqual(text, f"{CANONICAL_VERSION}\norders\nid-1\n1767225600\nn\n{EMPTY_OBJECT_DIGEST}")

    def test_data_digest_of_empty_object(self):
        self.assertEqual(data_digest({}), EMPTY_OBJECT_DIGEST)

    def test_storage_string_adds_producer_line(self):
        text = storage_canonical_string("orders", "id-1", 5, {}, "service:billing")
        self.assertEqual(text, f"evq-v1\norders\nid-1\n5\n\n{EMPTY_OBJECT_DIGEST}\nservice:billing")

    def test_storage_string_without_producer(self):
        expected = f"evq-v1\norders\nid-1\n5\n\n{EMPTY_OBJECT_DIGEST}\n"
        self.assertEqual(storage_canonical_string("orders", "id-1", 5, {}, None), expected)
        self.assertEqual(storage_canonical_string("orders", "id-1", 5, {}, ""), expected)

    def test_storage_producer_may_span_lines(self):
        text = storage_canonical_string("orders", "id-1", 5, {}, "user:a\nb")
        self.assertTrue(text.endswith("\nuser:a\nb"))

    def test_line_feed_in_field_rejected(self):
        cases = {
            "queue": ("a\nb", "id", "nonce"),
            "id": ("queue", "a\nb", "nonce"),
            "nonce": ("queue", "id", "a\nb"),
        }
        for field, (queue, id, nonce) in cases.items():
            with self.subTest(field=field):
                with self.assertRaisesRegex(ValueError, f"^{field} must not contain a line feed"):
                    canonical_string(queue, id, 5, nonce, {})

    def test_lone_surrogate_in_field_rejected(self):
        with self.assertRaisesRegex(ValueError, "^id must be valid Unicode"):
            canonical_string("queue", "a\ud800", 5, "nonce", {})
        with self.assertRaisesRegex(ValueError, "^producer must be valid Unicode"):
            storage_canonical_string("queue", "id", 5, {}, "\udc00")

    def test_invalid_timestamp_rejected(self):
        for timestamp in (1.5, "5", True, None):
            with self.subTest(timestamp=timestamp):
                with self.assertRaisesRegex(TypeError, "^timestamp must be an int"):
                    canonical_string("queue", "id", timestamp, "nonce", {})
        with self.assertRaisesRegex(ValueError, "^timestamp must be Unix seconds"):
            canonical_string("queue", "id", -1, "nonce", {})

    def test_non_str_fields_rejected(self):
        with self.assertRaisesRegex(TypeError, "^queue must be a str"):
            canonical_string(None, "id", 5, "nonce", {})
        with self.assertRaisesRegex(TypeError, "^id must be a str"):
            canonical_string("queue", 42, 5, "nonce", {})
        with self.assertRaisesRegex(TypeError, "^producer must be a str"):
            storage_canonical_string("queue", "id", 5, {}, 42)


if __name__ == "__main__":
    unittest.main()
