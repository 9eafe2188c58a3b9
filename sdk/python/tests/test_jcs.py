import json
import unittest

from evq_signing import canonical_json


def canonical_text(json_text: str) -> str:
    return canonical_json(json.loads(json_text)).decode("utf-8")


class CanonicalJsonNumberTest(unittest.TestCase):
    """Numbers are written as ECMAScript's Number::toString writes the double."""

    # Expected outputs are what Node.js 20 JSON.stringify writes for the same
    # doubles.
    CASES = [
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("1e-7", "1e-7"),
        ("1e-6", "0.000001"),
        ("123e-20", "1.23e-18"),
        ("0.1", "0.1"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("100", "100"),
        ("1.5", "1.5"),
        ("1.0", "1"),
        ("-1.5e-7", "-1.5e-7"),
        ("0.000001234", "0.000001234"),
        ("123456789.123", "123456789.123"),
        ("1.5e300", "1.5e+300"),
        ("9007199254740991", "9007199254740991"),
        ("9007199254740993", "9007199254740992"),
        ("123456789012345678901", "123456789012345680000"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("4.50", "4.5"),
        ("2e-3", "0.002"),
        ("1E30", "1e+30"),
    ]

    def test_parsed_numbers(self):
        for text, expected in self.CASES:
            with self.subTest(number=text):
                self.assertEqual(canonical_text(text), expected)

    def test_python_numbers(self):
        self.assertEqual(canonical_json(-0.0), b"0")
        self.assertEqual(canonical_json(1.0), b"1")
        self.assertEqual(canonical_json(2**53 + 1), b"9007199254740992")
        self.assertEqual(canonical_json(10**21), b"1e+21")

    def test_nan_and_infinity_rejected(self):
        for value in (float("nan"), float("inf"), float("-inf")):
            with self.subTest(value=value):
                with self.assertRaises(ValueError):
                    canonical_json(value)
        # json.loads accepts these non-standard tokens and 1e400 overflows.
        for text in ("NaN", "Infinity", "1e400"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    canonical_json(json.loads(text))

    def test_int_beyond_double_rejected(self):
        with self.assertRaises(ValueError):
            canonical_json(10**400)


class CanonicalJsonStringTest(unittest.TestCase):
    """Strings are escaped as JSON.stringify escapes them."""

    def test_short_escapes(self):
        self.assertEqual(canonical_json('"\\\b\f\n\r\t'), b'"\\"\\\\\\b\\f\\n\\r\\t"')

    def test_other_controls_as_lowercase_hex(self):
        self.assertEqual(canonical_json("\x00\x01\x1f\x0b"), b'"\\u0000\\u0001\\u001f\\u000b"')

    def test_other_characters_literal(self):
        text = "/\x7f\u2028\u2029é€😀<>&'"
        self.assertEqual(canonical_json(text), ('"' + text + '"').encode("utf-8"))

    def test_escaped_surrogate_pair_joined(self):
        self.assertEqual(canonical_text('"\\ud83d\\ude00"'), '"😀"')

    def test_lone_surrogate_rejected(self):
        for text in ('"\\ud800"', '"a\\udfffb"', '{"\\ud83d": 1}', '["\\ude00\\ud83d"]'):
            with self.subTest(json=text):
                with self.assertRaises(ValueError):
                    canonical_json(json.loads(text))


class CanonicalJsonStructureTest(unittest.TestCase):
    """Objects, arrays and literals."""

    def test_members_sorted_by_utf16_code_units(self):
        data = {
            "\ufb33": 1,
            "😀": 2,
            "€": 3,
            "ö": 4,
            "\u0080": 5,
            "1": 6,
            "\r": 7,
            "\uffff": 8,
            "a": 9,
            "A": 10,
            "\U00010000": 11,
        }
        # Code point order would put U+FB33 and U+FFFF before U+10000 and
        # U+1F600. In UTF-16, U+10000 and U+1F600 are surrogate pairs that
        # start with D800 and D83D, which sort before FB33. Node.js 20 sorts
        # the keys the same way.
        expected_keys = ["\r", "1", "A", "a", "\u0080", "ö", "€", "\U00010000", "😀", "\ufb33", "\uffff"]
        output = canonical_json(data).decode("utf-8")
        self.assertEqual(list(json.loads(output)), expected_keys)
        expected = json.dumps({key: data[key] for key in expected_keys}, ensure_ascii=False, separators=(",", ":"))
        self.assertEqual(output, expected)

    def test_nested_values_without_whitespace(self):
        text = '{ "b" : [ 1 , { "d" : null , "c" : true } ] , "a" : { } , "e" : [ ] , "f" : false }'
        self.assertEqual(canonical_text(text), '{"a":{},"b":[1,{"c":true,"d":null}],"e":[],"f":false}')

    def test_duplicate_member_keeps_last(self):
        # JSON.parse and json.loads both keep the last value of a repeated name.
        self.assertEqual(canonical_text('{"a":1,"a":2}'), '{"a":2}')

    def test_literals(self):
        self.assertEqual(canonical_json(None), b"null")
        self.assertEqual(canonical_json(True), b"true")
        self.assertEqual(canonical_json(False), b"false")
        self.assertEqual(canonical_json([True, 1, False, 0]), b"[true,1,false,0]")

    def test_tuple_written_as_array(self):
        self.assertEqual(canonical_json((1, "a")), b'[1,"a"]')

    def test_unsupported_types_rejected(self):
        for value in ({1: "a"}, {"a": {1, 2}}, b"bytes", object()):
            with self.subTest(value=value):
                with self.assertRaises(TypeError):
                    canonical_json(value)


if __name__ == "__main__":
    unittest.main()
