package evq

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CanonicalVersion is the first line of every canonical string, naming this
// version of the format.
const CanonicalVersion = "evq-v1"

// Fields are the message fields that a signature covers.
type Fields struct {
	Queue string
	ID    string
	// Timestamp is the time of signing in Unix seconds. It must not be
	// negative, because the canonical string writes it without a sign.
	Timestamp int64
	Nonce     string
	// Data is the message payload as JSON text. Only its JCS form is signed,
	// so whitespace, member order and number spelling do not change the
	// signature.
	Data json.RawMessage
}

// DataDigest returns the lowercase hex SHA-256 of the JCS serialization of
// the JSON text in data. The error wraps [ErrInvalidJSON] as [CanonicalJSON]
// describes.
func DataDigest(data []byte) (string, error) {
	canonical, err := CanonicalJSON(data)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// CanonicalString returns the string that a producer signature covers: the
// lines "evq-v1", queue, id, timestamp, nonce and data digest joined by "\n",
// with no trailing newline. It returns an error for a negative timestamp or
// for data that [CanonicalJSON] rejects.
//
// NOTE: the fields are not checked for line feeds, which would make two
// different messages share a canonical string. evq rejects queue names and
// message ids that contain them.
func CanonicalString(fields Fields) (string, error) {
	if fields.Timestamp < 0 {
		return "", fmt.Errorf("invalid timestamp %d: a signature timestamp is Unix seconds and cannot be negative", fields.Timestamp)
	}

	digest, err := DataDigest(fields.Data)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}

	lines := []string{
		CanonicalVersion,
		fields.Queue,
		fields.ID,
		strconv.FormatInt(fields.Timestamp, 10),
		fields.Nonce,
		digest,
	}
	return strings.Join(lines, "\n"), nil
}

// StoredFields are the fields of a stored message that evq's storage
// signature covers besides [Fields].
type StoredFields struct {
	// Producer is the producer id, nil when the message has none. An empty id
	// is signed differently from none.
	Producer *string
	// Key is the message key, nil when the message has none.
	Key *string
	// Headers are the message headers. Names that start with "evq-" are evq's
	// own headers, which the signature leaves out. Nil is the same as empty.
	Headers map[string]string
	// DeliverAt is when a work-queue receiver may first get the message, in
	// milliseconds since the Unix epoch, nil when the message has no delay.
	DeliverAt *int64
}

// evqHeaderPrefix starts the names of the headers that evq adds itself, which
// its storage signature does not cover.
const evqHeaderPrefix = "evq-"

// StorageCanonicalString returns the string that evq's storage signature
// covers: the canonical string of fields with an empty nonce, then four lines
// from stored. They are the producer id and the key as JCS strings, quotes
// included, the lowercase hex SHA-256 of the JCS form of the headers, and
// deliverAt in milliseconds. The producer, key and deliverAt lines are empty
// when the value is nil, and a message without headers hashes "{}".
// fields.Nonce is ignored.
//
// It returns the errors of [CanonicalString], and an error that wraps
// [ErrInvalidJSON] when the producer id, the key or a header is not valid
// UTF-8.
func StorageCanonicalString(fields Fields, stored StoredFields) (string, error) {
	fields.Nonce = ""
	canonical, err := CanonicalString(fields)
	if err != nil {
		return "", err
	}

	producer, err := optionalJSONString("producer id", stored.Producer)
	if err != nil {
		return "", err
	}
	key, err := optionalJSONString("key", stored.Key)
	if err != nil {
		return "", err
	}
	headers, err := headersDigest(stored.Headers)
	if err != nil {
		return "", err
	}
	deliverAt := ""
	if stored.DeliverAt != nil {
		deliverAt = strconv.FormatInt(*stored.DeliverAt, 10)
	}

	lines := []string{canonical, producer, key, headers, deliverAt}
	return strings.Join(lines, "\n"), nil
}

// optionalJSONString returns the JCS form of *value, a JSON string with its
// quotes, or "" when value is nil. JCS escapes line feeds, so the result fits
// on one line of a canonical string.
func optionalJSONString(name string, value *string) (string, error) {
	if value == nil {
		return "", nil
	}
	if !utf8.ValidString(*value) {
		return "", fmt.Errorf("%w: the %s %q is not valid UTF-8", ErrInvalidJSON, name, *value)
	}

	var out bytes.Buffer
	writeString(&out, *value)
	return out.String(), nil
}

// headersDigest returns the lowercase hex SHA-256 of the JCS form of headers
// without the names that start with "evq-".
func headersDigest(headers map[string]string) (string, error) {
	members := make(map[string]any, len(headers))
	for name, value := range headers {
		if strings.HasPrefix(name, evqHeaderPrefix) {
			continue
		}
		if !utf8.ValidString(name) || !utf8.ValidString(value) {
			return "", fmt.Errorf("%w: the header %q: %q is not valid UTF-8", ErrInvalidJSON, name, value)
		}
		members[name] = value
	}

	var out bytes.Buffer
	if err := writeObject(&out, members); err != nil {
		return "", err
	}
	sum := sha256.Sum256(out.Bytes())
	return hex.EncodeToString(sum[:]), nil
}
