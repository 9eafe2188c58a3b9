package evq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrInvalidJSON is wrapped by every error of [CanonicalJSON], and so by the
// errors of the functions that canonicalize message data.
var ErrInvalidJSON = errors.New("invalid JSON")

// CanonicalJSON returns the RFC 8785 (JCS) serialization of the JSON text in
// data. Object members are sorted by the UTF-16 code units of their names,
// strings are escaped as ECMAScript's JSON.stringify escapes them, and numbers
// are written as ECMAScript's Number::toString writes the nearest IEEE 754
// double. When a name occurs twice in one object, the last value is kept, as
// JSON.parse keeps it.
//
// The error wraps [ErrInvalidJSON] when data is not exactly one JSON value,
// is not valid UTF-8, contains a \u escape of a lone surrogate, or contains a
// number too large for a double (such as 1e400).
func CanonicalJSON(data []byte) ([]byte, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: the text is not valid UTF-8", ErrInvalidJSON)
	}

	value, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}

	// encoding/json replaces a lone surrogate with U+FFFD, but JSON.parse
	// keeps it and the JCS library that evq uses (canonicalize 5.1.0) then
	// throws. Rejecting it here keeps both sides from signing different bytes.
	if err := checkSurrogateEscapes(data); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	if err := writeValue(&out, value); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// decodeJSON parses one JSON value and rejects anything after it. Numbers stay
// json.Number text, so writeNumber rounds each one to a double exactly once.
func decodeJSON(data []byte) (any, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()

	var value any
	if err := decoder.Decode(&value); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the text contains no JSON value", ErrInvalidJSON)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}

	end := decoder.InputOffset()
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: unexpected data after the JSON value that ends at byte offset %d", ErrInvalidJSON, end)
	}
	return value, nil
}

// checkSurrogateEscapes returns an error for a \u escape in data that encodes
// one half of a surrogate pair without the other. data must be valid JSON.
// Unescaped surrogates need no check, because UTF-8 cannot encode them and
// CanonicalJSON has already rejected invalid UTF-8.
func checkSurrogateEscapes(data []byte) error {
	inString := false
	for i := 0; i < len(data); i++ {
		if !inString {
			inString = data[i] == '"'
			continue
		}

		switch data[i] {
		case '"':
			inString = false
		case '\\':
			i++
			if data[i] != 'u' {
				continue
			}
			start := i - 1
			unit := parseHex4(data[i+1 : i+5])
			i += 4

			if utf16.IsSurrogate(rune(unit)) && unit < 0xdc00 && hasLowSurrogateEscape(data[i+1:]) {
				i += 6
				continue
			}
			if utf16.IsSurrogate(rune(unit)) {
				return fmt.Errorf("%w: lone surrogate %s at byte offset %d", ErrInvalidJSON, data[start:i+1], start)
			}
		}
	}
	return nil
}

// hasLowSurrogateEscape reports whether rest starts with a \u escape of a low
// surrogate (U+DC00 to U+DFFF).
func hasLowSurrogateEscape(rest []byte) bool {
	if len(rest) < 6 || rest[0] != '\\' || rest[1] != 'u' {
		return false
	}
	unit := parseHex4(rest[2:6])
	return unit >= 0xdc00 && unit <= 0xdfff
}

// parseHex4 returns the value of four hex digits, which the JSON decoder has
// already validated.
func parseHex4(digits []byte) uint16 {
	value, _ := strconv.ParseUint(string(digits), 16, 16)
	return uint16(value)
}

// writeValue writes the JCS form of a value that encoding/json decoded into an
// interface with UseNumber.
func writeValue(out *bytes.Buffer, value any) error {
	switch value := value.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		out.WriteString(strconv.FormatBool(value))
	case json.Number:
		return writeNumber(out, value)
	case string:
		writeString(out, value)
	case []any:
		return writeArray(out, value)
	case map[string]any:
		return writeObject(out, value)
	default:
		return fmt.Errorf("%w: unexpected decoded type %T", ErrInvalidJSON, value)
	}
	return nil
}

func writeArray(out *bytes.Buffer, elements []any) error {
	out.WriteByte('[')
	for i, element := range elements {
		if i > 0 {
			out.WriteByte(',')
		}
		if err := writeValue(out, element); err != nil {
			return err
		}
	}
	out.WriteByte(']')
	return nil
}

func writeObject(out *bytes.Buffer, members map[string]any) error {
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sortByUTF16(names)

	out.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, name)
		out.WriteByte(':')
		if err := writeValue(out, members[name]); err != nil {
			return err
		}
	}
	out.WriteByte('}')
	return nil
}

// sortByUTF16 sorts names by their UTF-16 code units, as RFC 8785 requires.
// This differs from byte order for characters above U+FFFF, whose surrogate
// pairs (0xD800 to 0xDFFF) sort before U+E000 to U+FFFF.
func sortByUTF16(names []string) {
	units := make(map[string][]uint16, len(names))
	for _, name := range names {
		units[name] = utf16.Encode([]rune(name))
	}
	slices.SortFunc(names, func(a, b string) int {
		return slices.Compare(units[a], units[b])
	})
}

// writeString writes s as JSON.stringify does: \" \\ \b \f \n \r \t, other
// characters below U+0020 as \u00xx with lowercase hex, and everything else as
// literal UTF-8, including U+007F and U+2028.
func writeString(out *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"

	out.WriteByte('"')
	// Only ASCII bytes need escapes, and no byte of a multi-byte UTF-8
	// sequence is ASCII, so the string can be walked byte by byte.
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if c < 0x20 {
				out.WriteString(`\u00`)
				out.WriteByte(hexDigits[c>>4])
				out.WriteByte(hexDigits[c&0xf])
			} else {
				out.WriteByte(c)
			}
		}
	}
	out.WriteByte('"')
}

func writeNumber(out *bytes.Buffer, number json.Number) error {
	// ParseFloat rounds to the nearest double, as JSON.parse does. It returns
	// an error only on overflow, where JSON.parse would give Infinity, which
	// has no JSON form. Underflow gives 0 or a subnormal without an error.
	f, err := strconv.ParseFloat(string(number), 64)
	if err != nil {
		return fmt.Errorf("%w: number %s is outside the range of a double", ErrInvalidJSON, number)
	}
	out.WriteString(formatNumber(f))
	return nil
}

// formatNumber returns f as ECMAScript's Number::toString(f) (ECMA-262,
// radix 10) writes it: the shortest digits that round-trip, in plain decimal
// form unless the decimal exponent is at least 21 or at most -7, and "0" for
// both zeros. f must be finite.
func formatNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	if f < 0 {
		return "-" + formatNumber(-f)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		panic("evq: formatNumber called with a non-finite number")
	}

	// FormatFloat with precision -1 gives the shortest digits that round-trip,
	// as d.ddde±x. In ECMA-262's terms f = digits × 10^(n-k), where k is the
	// number of digits and n-1 is the exponent that FormatFloat wrote.
	mantissa, exponentText, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	digits := strings.Replace(mantissa, ".", "", 1)
	exponent, _ := strconv.Atoi(exponentText)
	k := len(digits)
	n := exponent + 1

	switch {
	case k <= n && n <= 21:
		return digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return "0." + strings.Repeat("0", -n) + digits
	}

	sign := "+"
	if exponent < 0 {
		sign = "-"
		exponent = -exponent
	}
	if k == 1 {
		return digits + "e" + sign + strconv.Itoa(exponent)
	}
	return digits[:1] + "." + digits[1:] + "e" + sign + strconv.Itoa(exponent)
}
