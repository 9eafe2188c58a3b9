import unittest

from evq_signing import CANONICAL_VERSION, canonical_string, data_digest, storage_canonical_string

EMPTY_OBJECT_DIGEST = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


class CanonicalStringTest(unittest.TestCase):
    def test_six_lines_without_trailing_newline(self):
        text = canonical_string("orders", "id-1", 1767225600, "n", {})
        self.assertEqual(text, f"{CANONICAL_VERSION}\norders\nid-1\n1767225600\nn\n{EMPTY_OBJECT_DIGEST}")

    def test_data_digest_of_empty_object(self):
        self.assertEqual(data_digest({}), EMPTY_OBJECT_DIGEST)

    def test_storage_string_adds_four_lines(self):
        text = storage_canonical_string(
            "orders", "id-1", 5, {}, "service:billing", "customer-7", {"b": "2", "a": "1"}, 1767229200000
        )
        headers_digest = data_digest({"a": "1", "b": "2"})
        expected = (
            f"evq-v1\norders\nid-1\n5\n\n{EMPTY_OBJECT_DIGEST}\n"
            f'"service:billing"\n"customer-7"\n{headers_digest}\n1767229200000'
        )
        self.assertEqual(text, expected)

    def test_storage_string_without_stored_fields(self):
        expected = f"evq-v1\norders\nid-1\n5\n\n{EMPTY_OBJECT_DIGEST}\n\n\n{EMPTY_OBJECT_DIGEST}\n"
        self.assertEqual(storage_canonical_string("orders", "id-1", 5, {}, None, None, None, None), expected)
        self.assertEqual(storage_canonical_string("orders", "id-1", 5, {}, None, None, {}, None), expected)

    def test_storage_empty_strings_differ_from_none(self):
        text = storage_canonical_string("orders", "id-1", 5, {}, "", "", {}, 0)
        self.assertEqual(text.split("\n")[6:], ['""', '""', EMPTY_OBJECT_DIGEST, "0"])

    def test_storage_line_feeds_escaped(self):
        text = storage_canonical_string("orders", "id-1", 5, {}, "user:a\nb", 'line\nkey "quoted"', {}, None)
        lines = text.split("\n")
        self.assertEqual(len(lines), 10)
        self.assertEqual(lines[6], '"user:a\\nb"')
        self.assertEqual(lines[7], '"line\\nkey \\"quoted\\""')

    def test_storage_evq_headers_left_out(self):
        producer_headers = {"source": "checkout"}
        expected = storage_canonical_string("q", "id", 5, {}, None, None, producer_headers, None)
        with_evq_headers = {**producer_headers, "evq-signature": "v1m=abc", "evq-proof": "0:1:"}
        self.assertEqual(storage_canonical_string("q", "id", 5, {}, None, None, with_evq_headers, None), expected)
        only_evq_headers = storage_canonical_string("q", "id", 5, {}, None, None, {"evq-id": "x"}, None)
        self.assertTrue(only_evq_headers.endswith(f"\n{EMPTY_OBJECT_DIGEST}\n"))

    def test_storage_uppercase_evq_header_kept(self):
        # evq's producerHeaders drops only the lowercase prefix.
        text = storage_canonical_string("q", "id", 5, {}, None, None, {"EVQ-x": "1"}, None)
        self.assertEqual(text.split("\n")[8], data_digest({"EVQ-x": "1"}))

    def test_storage_deliver_at_written_as_integer(self):
        cases = {
            0: "0",
            1767225603999: "1767225603999",
            -1: "-1",
            8_640_000_000_000_000: "8640000000000000",
        }
        for deliver_at_ms, line in cases.items():
            with self.subTest(deliver_at_ms=deliver_at_ms):
                text = storage_canonical_string("q", "id", 5, {}, None, None, {}, deliver_at_ms)
                self.assertEqual(text.split("\n")[9], line)

    def test_storage_invalid_deliver_at_rejected(self):
        for deliver_at_ms in (1767225603.5, "1767225603999", True):
            with self.subTest(deliver_at_ms=deliver_at_ms):
                with self.assertRaisesRegex(TypeError, "^deliver_at_ms must be an int"):
                    storage_canonical_string("q", "id", 5, {}, None, None, {}, deliver_at_ms)
        for deliver_at_ms in (8_640_000_000_000_001, -8_640_000_000_000_001):
            with self.subTest(deliver_at_ms=deliver_at_ms):
                with self.assertRaisesRegex(ValueError, "^deliver_at_ms must be within"):
                    storage_canonical_string("q", "id", 5, {}, None, None, {}, deliver_at_ms)

    def test_storage_invalid_headers_rejected(self):
        cases = {
            "list": ([("a", "1")], "^headers must be a mapping"),
            "int value": ({"a": 1}, "^header 'a' must be a str"),
            "null value": ({"a": None}, "^header 'a' must be a str"),
            "int name": ({1: "a"}, "^header name must be a str"),
        }
        for name, (headers, pattern) in cases.items():
            with self.subTest(headers=name):
                with self.assertRaisesRegex(TypeError, pattern):
                    storage_canonical_string("q", "id", 5, {}, None, None, headers, None)

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
            storage_canonical_string("queue", "id", 5, {}, "\udc00", None, None, None)
        with self.assertRaisesRegex(ValueError, "^key must be valid Unicode"):
            storage_canonical_string("queue", "id", 5, {}, None, "\udc00", None, None)
        with self.assertRaisesRegex(ValueError, "^header 'a' must be valid Unicode"):
            storage_canonical_string("queue", "id", 5, {}, None, None, {"a": "\ud800"}, None)

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
            storage_canonical_string("queue", "id", 5, {}, 42, None, None, None)
        with self.assertRaisesRegex(TypeError, "^key must be a str"):
            storage_canonical_string("queue", "id", 5, {}, None, b"key", None, None)


if __name__ == "__main__":
    unittest.main()
