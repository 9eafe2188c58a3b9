package evq

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// The expected outputs in these tables are what JSON.parse followed by the
// canonicalize package (5.1.0, the JCS library of evq's server) returns in
// Node.js 20.

func TestCanonicalJSONNumbers(t *testing.T) {
	tests := []struct {
		input string
		want  string
	}{
		{"1e21", "1e+21"},
		{"1E21", "1e+21"},
		{"999999999999999999999", "1e+21"},
		{"1e20", "100000000000000000000"},
		{"123456789012345680000", "123456789012345680000"},
		{"12345678901234567890123", "1.2345678901234568e+22"},
		{"1e-7", "1e-7"},
		{"-1e-7", "-1e-7"},
		{"1.234e-7", "1.234e-7"},
		{"1e-6", "0.000001"},
		{"0.000001234", "0.000001234"},
		{"0.00001", "0.00001"},
		{"123e-20", "1.23e-18"},
		{"0.1", "0.1"},
		{"0.30000000000000004", "0.30000000000000004"},
		{"4.35", "4.35"},
		{"5e-324", "5e-324"},
		{"-5e-324", "-5e-324"},
		{"2.2250738585072014e-308", "2.2250738585072014e-308"},
		{"1e-400", "0"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"},
		{"1e+300", "1e+300"},
		{"-0", "0"},
		{"-0.0", "0"},
		{"0e5", "0"},
		{"100", "100"},
		{"1e+2", "100"},
		{"1.0e2", "100"},
		{"1.0", "1"},
		{"1.5", "1.5"},
		{"9007199254740993", "9007199254740992"},
	}

	for _, test := range tests {
		t.Run(test.input, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(test.input))
			if err != nil {
				t.Fatalf("CanonicalJSON(%s): %v", test.input, err)
			}
			if string(got) != test.want {
				t.Errorf("CanonicalJSON(%s) = %s, want %s", test.input, got, test.want)
			}
		})
	}
}

func TestFormatNumberExtremes(t *testing.T) {
	tests := []struct {
		value float64
		want  string
	}{
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{-math.MaxFloat64, "-1.7976931348623157e+308"},
		{math.SmallestNonzeroFloat64, "5e-324"},
		{math.Copysign(0, -1), "0"},
		{1e21, "1e+21"},
		{math.Nextafter(1e21, 0), "999999999999999900000"},
	}

	for _, test := range tests {
		if got := formatNumber(test.value); got != test.want {
			t.Errorf("formatNumber(%g) = %s, want %s", test.value, got, test.want)
		}
	}
}

func TestCanonicalJSONKeyOrderUTF16(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{
			// The sorting example of RFC 8785, section 3.2.3.
			name:  "RFC 8785 example",
			input: `{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			want:  "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001f600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}",
		},
		{
			// Surrogate pairs (0xD800 to 0xDFFF) sort before U+E000 to
			// U+FFFF, although their code points and UTF-8 bytes are larger.
			name:  "surrogate pairs before U+E000",
			input: `{"\ufb01":1,"\ud83d\ude00":2,"\ue000":3,"\uffff":4,"\ud800\udc00":5}`,
			want:  "{\"\U00010000\":5,\"\U0001f600\":2,\"\ue000\":3,\"\ufb01\":1,\"\uffff\":4}",
		},
		{
			name:  "case and prefixes",
			input: `{"b":1,"a":2,"B":3,"ab":4,"":5}`,
			want:  `{"":5,"B":3,"a":2,"ab":4,"b":1}`,
		},
		{
			name:  "nested objects sorted",
			input: `{"z":{"y":1,"x":[{"b":1,"a":2}]},"a":null}`,
			want:  `{"a":null,"z":{"x":[{"a":2,"b":1}],"y":1}}`,
		},
		{
			name:  "duplicate name keeps last",
			input: `{"a":1,"a":2}`,
			want:  `{"a":2}`,
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(test.input))
			if err != nil {
				t.Fatalf("CanonicalJSON: %v", err)
			}
			if string(got) != test.want {
				t.Errorf("CanonicalJSON = %s, want %s", got, test.want)
			}
		})
	}
}

func TestCanonicalJSONStrings(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"short escapes", `"\"\\\/\b\f\n\r\t"`, `"\"\\/\b\f\n\r\t"`},
		{"other controls as lowercase hex", `"\u0000\u001F\u000b"`, `"\u0000\u001f\u000b"`},
		{"DEL and line separators literal", `"\u007f\u0080\u2028\u2029"`, "\"\u007f\u0080\u2028\u2029\""},
		{"escaped pair becomes UTF-8", `"\ud834\udd1e"`, "\"\U0001d11e\""},
		{"literal UTF-8 kept", `"Zoë ☕ 😀"`, `"Zoë ☕ 😀"`},
		{"replacement character kept", `"\uFFFD"`, "\"\uFFFD\""},
		{"escaped backslash before u", `"\\ud800"`, `"\\ud800"`},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(test.input))
			if err != nil {
				t.Fatalf("CanonicalJSON(%s): %v", test.input, err)
			}
			if string(got) != test.want {
				t.Errorf("CanonicalJSON(%s) = %s, want %s", test.input, got, test.want)
			}
		})
	}
}

func TestCanonicalJSONLiteralsAndWhitespace(t *testing.T) {
	input := " \t\r\n[ true , false , null , { } , [ ] , \"\" ] \n"
	want := `[true,false,null,{},[],""]`

	got, err := CanonicalJSON([]byte(input))
	if err != nil {
		t.Fatalf("CanonicalJSON: %v", err)
	}
	if string(got) != want {
		t.Errorf("CanonicalJSON = %s, want %s", got, want)
	}
}

func TestCanonicalJSONRejectsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		input string
		// wantText is a part of the expected error message.
		wantText string
	}{
		{"empty input", "", "no JSON value"},
		{"whitespace only", " \n", "no JSON value"},
		{"syntax error", `{"a":}`, "invalid character"},
		{"truncated", `{"a":1`, "unexpected EOF"},
		{"two values", `1 2`, "after the JSON value"},
		{"trailing bracket", `{}]`, "after the JSON value"},
		{"invalid UTF-8", "\"\xff\"", "not valid UTF-8"},
		{"raw surrogate in UTF-8", "\"\xed\xa0\x80\"", "not valid UTF-8"},
		{"lone high surrogate", `"\ud800"`, `lone surrogate \ud800`},
		{"lone low surrogate", `"\udc00x"`, `lone surrogate \udc00`},
		{"high surrogate then other escape", `"\ud800\u0041"`, `lone surrogate \ud800`},
		{"two high surrogates", `"\ud800\ud800"`, `lone surrogate \ud800`},
		{"lone surrogate in name", `{"\ud800":1}`, `lone surrogate \ud800`},
		{"number overflow", `1e400`, "outside the range of a double"},
		{"negative overflow", `[-1e400]`, "outside the range of a double"},
		{"NaN", `NaN`, "invalid character"},
		{"leading zero", `01`, "after the JSON value"},
		{"byte order mark", "\ufeff1", "invalid character"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(test.input))
			if err == nil {
				t.Fatalf("CanonicalJSON(%q) = %s, want an error", test.input, got)
			}
			if !errors.Is(err, ErrInvalidJSON) {
				t.Errorf("error %q does not wrap ErrInvalidJSON", err)
			}
			if !strings.Contains(err.Error(), test.wantText) {
				t.Errorf("error %q does not contain %q", err, test.wantText)
			}
		})
	}
}
