package evq

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// StorageCanonicalString returns the string that evq's storage signature
// covers: the canonical string of fields with an empty nonce, then "\n" and
// the producer id. fields.Nonce is ignored, and producer is empty when the
// message has no producer. The errors are those of [CanonicalString].
func StorageCanonicalString(fields Fields, producer string) (string, error) {
	fields.Nonce = ""
	canonical, err := CanonicalString(fields)
	if err != nil {
		return "", err
	}
	return canonical + "\n" + producer, nil
}
