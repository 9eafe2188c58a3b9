package evq

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// Errors that [Verifier.Verify] wraps, so callers can tell the causes apart
// with [errors.Is].
var (
	// ErrMissingSignature means that the message carries no signature.
	ErrMissingSignature = errors.New("missing signature")
	// ErrUnknownKeyID means that the signature names a key id that is not
	// among the verifier's public keys.
	ErrUnknownKeyID = errors.New("unknown key id")
	// ErrInvalidSignature means that the signature does not verify against
	// the message's fields.
	ErrInvalidSignature = errors.New("invalid signature")
)

// Signature is a signature object as evq's GraphQL API names its fields:
// the SignatureInput of a signed publish, or the signature of a delivered
// message, which has an empty nonce. Timestamp is in Unix seconds.
type Signature struct {
	KeyID     string `json:"keyId"`
	Timestamp int64  `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Value     string `json:"value"`
	// Proof is the message's Merkle inclusion proof,
	// "<index>:<size>:<standard base64 of the audit path>", which a v1m
	// signature needs. It is empty (null or absent in JSON) for v1 and v1a.
	Proof string `json:"proof,omitempty"`
}

// Message is the part of a delivered message that evq's storage signature
// covers, with the signature itself. The JSON names match the fields of the
// GraphQL Message type, so a message decoded from a response can be passed
// to [Verifier.Verify] as it is.
type Message struct {
	Queue string          `json:"queue"`
	ID    string          `json:"id"`
	Data  json.RawMessage `json:"data"`
	// Producer is the producer id, nil when the message has none (null in
	// JSON).
	Producer *string `json:"producer"`
	// Key is the message key, nil when the message has none.
	Key *string `json:"key"`
	// Headers are the message headers. Names that start with "evq-" are evq's
	// own headers, which the signature does not cover.
	Headers map[string]string `json:"headers"`
	// DeliverAt is when a work-queue receiver may first get the message, nil
	// when the message has no delay. GraphQL writes it as an RFC 3339
	// DateTime, and the signature covers it in whole milliseconds.
	DeliverAt *time.Time `json:"deliverAt"`
	Signature *Signature `json:"signature"`
}

// StoredFields returns the fields of message that [StorageCanonicalString]
// takes besides [Fields], with DeliverAt converted to milliseconds since the
// Unix epoch. Digits below a millisecond are dropped, because evq stores
// deliverAt in milliseconds.
func (message Message) StoredFields() StoredFields {
	stored := StoredFields{Producer: message.Producer, Key: message.Key, Headers: message.Headers}
	if message.DeliverAt != nil {
		milliseconds := message.DeliverAt.UnixMilli()
		stored.DeliverAt = &milliseconds
	}
	return stored
}

// Verifier checks evq's storage signature on messages that a consumer
// receives. It is safe for concurrent use.
type Verifier struct {
	publicKeys map[string]ed25519.PublicKey
}

// NewVerifier returns a Verifier that accepts signatures by the given evq
// public keys, indexed by key id (kid). It copies the map and returns an
// error when a key is not [ed25519.PublicKeySize] bytes long.
// [ParseJWKS] returns such a map from evq's /.well-known/jwks.json.
func NewVerifier(publicKeys map[string]ed25519.PublicKey) (*Verifier, error) {
	for keyID, publicKey := range publicKeys {
		if len(publicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("evq: public key %q has %d bytes, but an Ed25519 public key has %d", keyID, len(publicKey), ed25519.PublicKeySize)
		}
	}
	return &Verifier{publicKeys: maps.Clone(publicKeys)}, nil
}

// Verify checks that message carries a valid storage signature by one of the
// verifier's keys. It returns nil when it does. Otherwise the error names the
// message and wraps [ErrMissingSignature], [ErrUnknownKeyID],
// [ErrInvalidSignature] or [ErrInvalidJSON]. The last is for data that is not
// valid JSON, or a producer id, key or header that is not valid UTF-8.
//
// It accepts two forms of the signature value. A v1m value signs the root of
// a Merkle tree of the messages that evq stored together, and Verify
// recomputes that root from the message's leaf hash and signature.Proof. A
// malformed proof, or one whose index, size or audit path does not lead to
// the signed root, gives [ErrInvalidSignature]. A v1a value signs the
// message's [StorageCanonicalString] itself, and Verify ignores the proof.
//
// NOTE: a v1m signature covers the root, not the proof's index and size, so
// Verify proves only that the message is a leaf of the signed tree. Another
// size that puts the leaf's siblings on the same sides, such as 4 in place
// of 3 for leaf 0, leads to the same root and verifies.
//
// Verify does not check the signature's age: evq signs a message when it
// stores it, and a consumer may receive it much later.
func (v *Verifier) Verify(message Message) error {
	where := fmt.Sprintf("evq: message %q in queue %q", message.ID, message.Queue)

	signature := message.Signature
	if signature == nil || signature.Value == "" {
		return fmt.Errorf("%s: %w; request the signature field with the message", where, ErrMissingSignature)
	}

	publicKey, found := v.publicKeys[signature.KeyID]
	if !found {
		return fmt.Errorf("%s: %w %q; reload evq's public keys from /.well-known/jwks.json", where, ErrUnknownKeyID, signature.KeyID)
	}

	fields := Fields{Queue: message.Queue, ID: message.ID, Timestamp: signature.Timestamp, Data: message.Data}
	canonical, err := StorageCanonicalString(fields, message.StoredFields())
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}

	if strings.HasPrefix(signature.Value, v1mPrefix) {
		if err := verifyV1m(publicKey, canonical, signature.Value, signature.Proof); err != nil {
			return fmt.Errorf("%s: %w: v1m signature by key %q: %w", where, ErrInvalidSignature, signature.KeyID, err)
		}
		return nil
	}

	if !VerifyV1a(publicKey, canonical, signature.Value) {
		return fmt.Errorf("%s: %w by key %q: the message differs from what that key signed, or the value is not a v1a or v1m signature", where, ErrInvalidSignature, signature.KeyID)
	}
	return nil
}
