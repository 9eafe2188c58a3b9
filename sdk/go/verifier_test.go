package evq

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const testKeyID = "evq-test-key"

// signStored returns message with a storage signature by privateKey, as evq
// would store it.
func signStored(t *testing.T, privateKey ed25519.PrivateKey, message Message, timestamp int64) Message {
	t.Helper()

	fields := Fields{Queue: message.Queue, ID: message.ID, Timestamp: timestamp, Data: message.Data}
	canonical, err := StorageCanonicalString(fields, message.StoredFields())
	if err != nil {
		t.Fatalf("StorageCanonicalString: %v", err)
	}
	message.Signature = &Signature{KeyID: testKeyID, Timestamp: timestamp, Value: SignV1a(privateKey, canonical)}
	return message
}

func newTestVerifier(t *testing.T) (*Verifier, ed25519.PrivateKey) {
	t.Helper()

	privateKey, publicKey := testKeyPair()
	verifier, err := NewVerifier(map[string]ed25519.PublicKey{testKeyID: publicKey})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return verifier, privateKey
}

func testMessage() Message {
	producer := "service:billing"
	key := "customer-7"
	deliverAt := time.Date(2026, time.January, 1, 1, 0, 0, 250_000_000, time.UTC)
	return Message{
		Queue:     "orders",
		ID:        "order-7",
		Data:      json.RawMessage(`{"amount":19.99,"items":[1,2]}`),
		Producer:  &producer,
		Key:       &key,
		Headers:   map[string]string{"source": "checkout", "trace-id": "abc123"},
		DeliverAt: &deliverAt,
	}
}

func TestVerifierAcceptsStoredMessage(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signStored(t, privateKey, testMessage(), 1767225600)

	if err := verifier.Verify(message); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestVerifierAcceptsDecodedMessage(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := testMessage()
	message.Producer = nil
	message.Headers["evq-delivery-count"] = "2"
	signed := signStored(t, privateKey, message, 1767225600)

	// A GraphQL response writes a missing producer as null, writes deliverAt
	// as an RFC 3339 DateTime and may space and order the data differently
	// from the text that evq signed. The evq- header is left out of the
	// signature, so its value may change between deliveries.
	response := `{"queue":"orders","id":"order-7","producer":null,"key":"customer-7",` +
		`"headers":{"trace-id":"abc123","evq-delivery-count":"3","source":"checkout"},` +
		`"deliverAt":"2026-01-01T02:00:00.250+01:00",` +
		`"data":{ "items": [1, 2.0], "amount": 1999e-2 },` +
		`"signature":{"keyId":"` + testKeyID + `","timestamp":1767225600,"nonce":"","value":"` + signed.Signature.Value + `"}}`
	var decoded Message
	if err := json.Unmarshal([]byte(response), &decoded); err != nil {
		t.Fatalf("decode message: %v", err)
	}

	if err := verifier.Verify(decoded); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestVerifierRejectsUnknownKeyID(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signStored(t, privateKey, testMessage(), 1767225600)
	message.Signature.KeyID = "rotated-away"

	err := verifier.Verify(message)
	if !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("Verify error = %v, want ErrUnknownKeyID", err)
	}
	for _, part := range []string{`"rotated-away"`, `"order-7"`, `"orders"`, "jwks.json"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %s", err, part)
		}
	}
}

func TestVerifierRejectsMissingSignature(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)

	unsigned := testMessage()
	if err := verifier.Verify(unsigned); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("Verify of a message without signature: error = %v, want ErrMissingSignature", err)
	}

	emptyValue := signStored(t, privateKey, testMessage(), 1767225600)
	emptyValue.Signature.Value = ""
	if err := verifier.Verify(emptyValue); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("Verify of an empty signature value: error = %v, want ErrMissingSignature", err)
	}
}

func TestVerifierRejectsChangedMessage(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)

	changes := []struct {
		name   string
		change func(m *Message)
	}{
		{"data", func(m *Message) { m.Data = json.RawMessage(`{"amount":0.01,"items":[1,2]}`) }},
		{"queue", func(m *Message) { m.Queue = "orders-copy" }},
		{"id", func(m *Message) { m.ID = "order-8" }},
		{"producer", func(m *Message) { m.Producer = appendedString(m.Producer, "x") }},
		{"producer null", func(m *Message) { m.Producer = nil }},
		{"producer empty", func(m *Message) { m.Producer = toggledString(nil) }},
		{"key", func(m *Message) { m.Key = appendedString(m.Key, "x") }},
		{"key null", func(m *Message) { m.Key = nil }},
		{"header value", func(m *Message) { m.Headers = withHeader(m.Headers, "source", "other") }},
		{"header added", func(m *Message) { m.Headers = withHeader(m.Headers, "x-added", "1") }},
		{"headers null", func(m *Message) { m.Headers = nil }},
		{"deliverAt", func(m *Message) { later := m.DeliverAt.Add(time.Millisecond); m.DeliverAt = &later }},
		{"deliverAt null", func(m *Message) { m.DeliverAt = nil }},
		{"timestamp", func(m *Message) { m.Signature.Timestamp++ }},
		{"v1 value", func(m *Message) { m.Signature.Value = "v1=" + strings.TrimPrefix(m.Signature.Value, "v1a=") }},
	}

	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			message := signStored(t, privateKey, testMessage(), 1767225600)
			c.change(&message)

			err := verifier.Verify(message)
			if !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("Verify error = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestVerifierIgnoresNonce(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signStored(t, privateKey, testMessage(), 1767225600)
	message.Signature.Nonce = "not covered"

	if err := verifier.Verify(message); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestVerifierRejectsInvalidData(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signStored(t, privateKey, testMessage(), 1767225600)
	message.Data = json.RawMessage(`{"amount":`)

	if err := verifier.Verify(message); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("Verify error = %v, want ErrInvalidJSON", err)
	}
}

func TestVerifierRejectsNegativeTimestamp(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signStored(t, privateKey, testMessage(), 1767225600)
	message.Signature.Timestamp = -1

	if err := verifier.Verify(message); err == nil {
		t.Error("Verify accepted a negative timestamp")
	}
}

func TestNewVerifierRejectsShortKey(t *testing.T) {
	_, publicKey := testKeyPair()

	_, err := NewVerifier(map[string]ed25519.PublicKey{"short": publicKey[:16]})
	if err == nil {
		t.Fatal("NewVerifier accepted a 16-byte public key")
	}
	if !strings.Contains(err.Error(), `"short"`) {
		t.Errorf("error %q does not name the key id", err)
	}
}

func TestNewVerifierCopiesKeys(t *testing.T) {
	privateKey, publicKey := testKeyPair()
	keys := map[string]ed25519.PublicKey{testKeyID: publicKey}
	verifier, err := NewVerifier(keys)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}

	delete(keys, testKeyID)

	message := signStored(t, privateKey, testMessage(), 1767225600)
	if err := verifier.Verify(message); err != nil {
		t.Errorf("Verify after the caller changed its map: %v", err)
	}
}
