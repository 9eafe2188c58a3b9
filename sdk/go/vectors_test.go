package evq

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// vectorsPath is the file of shared signature vectors that the TypeScript,
// Go and Python implementations must all reproduce.
const vectorsPath = "../vectors/signatures.json"

type vectorKey struct {
	SeedHex      string `json:"seedHex"`
	PublicKeyHex string `json:"publicKeyHex"`
	KeyID        string `json:"kid"`
}

type vectorCase struct {
	Name      string            `json:"name"`
	Queue     string            `json:"queue"`
	ID        string            `json:"id"`
	Timestamp int64             `json:"timestamp"`
	Nonce     string            `json:"nonce"`
	DataJSON  string            `json:"dataJson"`
	Producer  *string           `json:"producer"`
	Key       *string           `json:"key"`
	Headers   map[string]string `json:"headers"`
	// DeliverAt is in milliseconds since the Unix epoch.
	DeliverAt  *int64 `json:"deliverAt"`
	JCS        string `json:"jcs"`
	DataSHA256 string `json:"dataSha256"`
	Canonical  string `json:"canonical"`
	V1         string `json:"v1"`
	V1a        string `json:"v1a"`
	Storage    struct {
		Canonical string `json:"canonical"`
		Signature string `json:"signature"`
	} `json:"storage"`
}

func (c vectorCase) fields() Fields {
	return Fields{Queue: c.Queue, ID: c.ID, Timestamp: c.Timestamp, Nonce: c.Nonce, Data: json.RawMessage(c.DataJSON)}
}

func (c vectorCase) stored() StoredFields {
	return StoredFields{Producer: c.Producer, Key: c.Key, Headers: c.Headers, DeliverAt: c.DeliverAt}
}

// vectorKeys contains the keys of the vector file, with the Ed25519 keys
// derived from their seeds.
type vectorKeys struct {
	hmacSecret      string
	producerPrivate ed25519.PrivateKey
	producerPublic  ed25519.PublicKey
	evqPrivate      ed25519.PrivateKey
	evqPublic       ed25519.PublicKey
	evqKeyID        string
}

// vectorBatch is a group of vector cases that evq sealed under one v1m
// signature. Leaves and Proofs are in the order of Cases.
type vectorBatch struct {
	Name       string   `json:"name"`
	Cases      []string `json:"cases"`
	Leaves     []string `json:"leaves"`
	Root       string   `json:"root"`
	SignedRoot string   `json:"signedRoot"`
	Signature  string   `json:"signature"`
	Proofs     []string `json:"proofs"`
}

func loadVectors(t *testing.T) (vectorKeys, []vectorCase) {
	t.Helper()

	keys, cases, _ := loadVectorFile(t)
	return keys, cases
}

// loadVectorFile returns the keys, cases and storage batches of the vector
// file.
func loadVectorFile(t *testing.T) (vectorKeys, []vectorCase, []vectorBatch) {
	t.Helper()

	text, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var file struct {
		Keys struct {
			HMACSecret      string    `json:"hmacSecret"`
			ProducerEd25519 vectorKey `json:"producerEd25519"`
			EvqEd25519      vectorKey `json:"evqEd25519"`
		} `json:"keys"`
		Cases          []vectorCase  `json:"cases"`
		StorageBatches []vectorBatch `json:"storageBatches"`
	}
	if err := json.Unmarshal(text, &file); err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	if len(file.Cases) == 0 {
		t.Fatalf("%s contains no cases", vectorsPath)
	}
	if len(file.StorageBatches) == 0 {
		t.Fatalf("%s contains no storage batches", vectorsPath)
	}

	producerPrivate, producerPublic := keyPairFromVector(t, "producerEd25519", file.Keys.ProducerEd25519)
	evqPrivate, evqPublic := keyPairFromVector(t, "evqEd25519", file.Keys.EvqEd25519)
	keys := vectorKeys{
		hmacSecret:      file.Keys.HMACSecret,
		producerPrivate: producerPrivate,
		producerPublic:  producerPublic,
		evqPrivate:      evqPrivate,
		evqPublic:       evqPublic,
		evqKeyID:        file.Keys.EvqEd25519.KeyID,
	}
	return keys, file.Cases, file.StorageBatches
}

// keyPairFromVector derives the key pair from the seed and checks that its
// public key is the one the vector file lists.
func keyPairFromVector(t *testing.T, name string, key vectorKey) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()

	seed, err := hex.DecodeString(key.SeedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("%s.seedHex is not %d bytes of hex: %q", name, ed25519.SeedSize, key.SeedHex)
	}
	privateKey := ed25519.NewKeyFromSeed(seed)
	publicKey := privateKey.Public().(ed25519.PublicKey)

	if got := hex.EncodeToString(publicKey); got != key.PublicKeyHex {
		t.Fatalf("%s: public key from seed = %s, vector lists %s", name, got, key.PublicKeyHex)
	}
	return privateKey, publicKey
}

func TestVectorsCoverRequiredKinds(t *testing.T) {
	_, cases := loadVectors(t)

	names := make(map[string]bool, len(cases))
	for _, c := range cases {
		names[c.Name] = true
	}
	for _, required := range []string{"unicode strings and keys", "numbers", "nested objects and arrays", "empty strings"} {
		if !names[required] {
			t.Errorf("vectors lack the case %q", required)
		}
	}
}

func TestVectorsCanonicalBytes(t *testing.T) {
	_, cases := loadVectors(t)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			jcs, err := CanonicalJSON([]byte(c.DataJSON))
			if err != nil {
				t.Fatalf("CanonicalJSON: %v", err)
			}
			if !bytes.Equal(jcs, []byte(c.JCS)) {
				t.Errorf("CanonicalJSON = %q, want %q", jcs, c.JCS)
			}

			digest, err := DataDigest([]byte(c.DataJSON))
			if err != nil {
				t.Fatalf("DataDigest: %v", err)
			}
			if digest != c.DataSHA256 {
				t.Errorf("DataDigest = %s, want %s", digest, c.DataSHA256)
			}

			canonical, err := CanonicalString(c.fields())
			if err != nil {
				t.Fatalf("CanonicalString: %v", err)
			}
			if canonical != c.Canonical {
				t.Errorf("CanonicalString = %q, want %q", canonical, c.Canonical)
			}

			storage, err := StorageCanonicalString(c.fields(), c.stored())
			if err != nil {
				t.Fatalf("StorageCanonicalString: %v", err)
			}
			if storage != c.Storage.Canonical {
				t.Errorf("StorageCanonicalString = %q, want %q", storage, c.Storage.Canonical)
			}
		})
	}
}

func TestVectorsSignatures(t *testing.T) {
	keys, cases := loadVectors(t)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := SignV1(keys.hmacSecret, c.Canonical); got != c.V1 {
				t.Errorf("SignV1 = %s, want %s", got, c.V1)
			}
			if got := SignV1a(keys.producerPrivate, c.Canonical); got != c.V1a {
				t.Errorf("SignV1a with the producer key = %s, want %s", got, c.V1a)
			}
			if got := SignV1a(keys.evqPrivate, c.Storage.Canonical); got != c.Storage.Signature {
				t.Errorf("SignV1a of the storage string with evq's key = %s, want %s", got, c.Storage.Signature)
			}
		})
	}
}

func TestVectorsVerify(t *testing.T) {
	keys, cases := loadVectors(t)
	verifier := newVectorVerifier(t, keys)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if !VerifyV1(keys.hmacSecret, c.Canonical, c.V1) {
				t.Error("VerifyV1 rejected the vector's v1 signature")
			}
			if !VerifyV1a(keys.producerPublic, c.Canonical, c.V1a) {
				t.Error("VerifyV1a rejected the vector's v1a signature")
			}
			if !VerifyV1a(keys.evqPublic, c.Storage.Canonical, c.Storage.Signature) {
				t.Error("VerifyV1a rejected the vector's storage signature")
			}
			if err := verifier.Verify(storedMessage(c, keys)); err != nil {
				t.Errorf("Verifier.Verify: %v", err)
			}
		})
	}
}

func TestVectorsWrongKeyFails(t *testing.T) {
	keys, cases := loadVectors(t)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if VerifyV1(keys.hmacSecret+"x", c.Canonical, c.V1) {
				t.Error("VerifyV1 accepted v1 under another secret")
			}
			if VerifyV1a(keys.evqPublic, c.Canonical, c.V1a) {
				t.Error("VerifyV1a accepted the producer's v1a under evq's key")
			}
			if VerifyV1a(keys.producerPublic, c.Storage.Canonical, c.Storage.Signature) {
				t.Error("VerifyV1a accepted evq's storage signature under the producer's key")
			}
		})
	}
}

// signedMessage contains the inputs of one vector case and its three
// signatures, so that a test can change one of them and verify again.
type signedMessage struct {
	fields  Fields
	stored  StoredFields
	v1      string
	v1a     string
	storage string
}

func TestVectorsTamperingFails(t *testing.T) {
	keys, cases := loadVectors(t)
	verifier := newVectorVerifier(t, keys)

	tamperings := []struct {
		name string
		// producerCovers is true when the producer signatures cover the
		// change, and storageCovers when evq's storage signature does.
		producerCovers bool
		storageCovers  bool
		change         func(m *signedMessage)
	}{
		{"changed data", true, true, func(m *signedMessage) { m.fields.Data = json.RawMessage("[" + string(m.fields.Data) + "]") }},
		{"changed queue", true, true, func(m *signedMessage) { m.fields.Queue += "x" }},
		{"changed id", true, true, func(m *signedMessage) { m.fields.ID += "x" }},
		{"changed timestamp", true, true, func(m *signedMessage) { m.fields.Timestamp++ }},
		{"changed nonce", true, false, func(m *signedMessage) { m.fields.Nonce += "x" }},
		{"changed producer", false, true, func(m *signedMessage) { m.stored.Producer = appendedString(m.stored.Producer, "x") }},
		{"producer removed or added", false, true, func(m *signedMessage) { m.stored.Producer = toggledString(m.stored.Producer) }},
		{"changed key", false, true, func(m *signedMessage) { m.stored.Key = appendedString(m.stored.Key, "x") }},
		{"key removed or added", false, true, func(m *signedMessage) { m.stored.Key = toggledString(m.stored.Key) }},
		{"added header", false, true, func(m *signedMessage) { m.stored.Headers = withHeader(m.stored.Headers, "x-added", "1") }},
		{"changed header", false, true, func(m *signedMessage) { m.stored.Headers = changedHeader(m.stored.Headers) }},
		{"changed deliverAt", false, true, func(m *signedMessage) { m.stored.DeliverAt = laterMilliseconds(m.stored.DeliverAt) }},
		{"deliverAt removed or added", false, true, func(m *signedMessage) { m.stored.DeliverAt = toggledMilliseconds(m.stored.DeliverAt) }},
		{"truncated signature", true, true, func(m *signedMessage) {
			m.v1 = m.v1[:len(m.v1)-4]
			m.v1a = m.v1a[:len(m.v1a)-4]
			m.storage = m.storage[:len(m.storage)-4]
		}},
		{"signature cut mid-character", true, true, func(m *signedMessage) {
			m.v1 = m.v1[:len(m.v1)-1]
			m.v1a = m.v1a[:len(m.v1a)-1]
			m.storage = m.storage[:len(m.storage)-1]
		}},
		{"non-base64 signature", true, true, func(m *signedMessage) {
			m.v1 = replaceCharacter(m.v1, 5, '*')
			m.v1a = replaceCharacter(m.v1a, 5, '*')
			m.storage = replaceCharacter(m.storage, 5, '*')
		}},
	}

	for _, c := range cases {
		for _, tampering := range tamperings {
			t.Run(c.Name+"/"+tampering.name, func(t *testing.T) {
				m := signedMessage{fields: c.fields(), stored: c.stored(), v1: c.V1, v1a: c.V1a, storage: c.Storage.Signature}
				tampering.change(&m)

				if tampering.producerCovers {
					canonical, err := CanonicalString(m.fields)
					if err != nil {
						t.Fatalf("CanonicalString: %v", err)
					}
					if VerifyV1(keys.hmacSecret, canonical, m.v1) {
						t.Error("VerifyV1 accepted the changed message")
					}
					if VerifyV1a(keys.producerPublic, canonical, m.v1a) {
						t.Error("VerifyV1a accepted the changed message")
					}
				}

				if !tampering.storageCovers {
					return
				}
				message := Message{
					Queue:     m.fields.Queue,
					ID:        m.fields.ID,
					Data:      m.fields.Data,
					Producer:  m.stored.Producer,
					Key:       m.stored.Key,
					Headers:   m.stored.Headers,
					DeliverAt: timeFromMilliseconds(m.stored.DeliverAt),
					Signature: &Signature{KeyID: keys.evqKeyID, Timestamp: m.fields.Timestamp, Value: m.storage},
				}
				if err := verifier.Verify(message); !errors.Is(err, ErrInvalidSignature) {
					t.Errorf("Verifier.Verify error = %v, want ErrInvalidSignature", err)
				}
			})
		}
	}
}

func TestVectorsStorageIgnoresNonce(t *testing.T) {
	_, cases := loadVectors(t)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			fields := c.fields()
			fields.Nonce = "any nonce"

			storage, err := StorageCanonicalString(fields, c.stored())
			if err != nil {
				t.Fatalf("StorageCanonicalString: %v", err)
			}
			if storage != c.Storage.Canonical {
				t.Errorf("StorageCanonicalString = %q, want %q", storage, c.Storage.Canonical)
			}
		})
	}
}

func TestVectorsStorageIgnoresEvqHeaders(t *testing.T) {
	keys, cases := loadVectors(t)
	verifier := newVectorVerifier(t, keys)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			stored := c.stored()
			stored.Headers = withHeader(stored.Headers, "evq-delivery-count", "3")

			storage, err := StorageCanonicalString(c.fields(), stored)
			if err != nil {
				t.Fatalf("StorageCanonicalString: %v", err)
			}
			if storage != c.Storage.Canonical {
				t.Errorf("StorageCanonicalString = %q, want %q", storage, c.Storage.Canonical)
			}

			message := storedMessage(c, keys)
			message.Headers = stored.Headers
			if err := verifier.Verify(message); err != nil {
				t.Errorf("Verifier.Verify: %v", err)
			}
		})
	}
}

// TestVectorsVerifyGraphQLJSON decodes each vector message from JSON as
// evq's GraphQL API writes it, with deliverAt as a DateTime string.
func TestVectorsVerifyGraphQLJSON(t *testing.T) {
	keys, cases := loadVectors(t)
	verifier := newVectorVerifier(t, keys)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			response := graphQLMessageJSON(t, c, keys)

			var message Message
			if err := json.Unmarshal(response, &message); err != nil {
				t.Fatalf("decode %s: %v", response, err)
			}
			if err := verifier.Verify(message); err != nil {
				t.Errorf("Verifier.Verify of %s: %v", response, err)
			}
		})
	}
}

// graphQLMessageJSON returns the message of a vector case as evq's GraphQL
// API writes it: a missing producer, key or deliverAt is null, and deliverAt
// is a DateTime string as JavaScript's Date.toISOString writes it.
func graphQLMessageJSON(t *testing.T, c vectorCase, keys vectorKeys) []byte {
	t.Helper()

	var deliverAt *string
	if c.DeliverAt != nil {
		text := time.UnixMilli(*c.DeliverAt).UTC().Format("2006-01-02T15:04:05.000Z")
		deliverAt = &text
	}
	headers := c.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	response, err := json.Marshal(map[string]any{
		"queue":     c.Queue,
		"id":        c.ID,
		"key":       c.Key,
		"headers":   headers,
		"data":      json.RawMessage(c.DataJSON),
		"deliverAt": deliverAt,
		"producer":  c.Producer,
		"signature": map[string]any{"keyId": keys.evqKeyID, "timestamp": c.Timestamp, "nonce": "", "value": c.Storage.Signature, "proof": nil},
	})
	if err != nil {
		t.Fatalf("encode the message of case %q: %v", c.Name, err)
	}
	return response
}

func newVectorVerifier(t *testing.T, keys vectorKeys) *Verifier {
	t.Helper()

	verifier, err := NewVerifier(map[string]ed25519.PublicKey{keys.evqKeyID: keys.evqPublic})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return verifier
}

// storedMessage returns the message of a vector case as a consumer receives
// it, carrying evq's storage signature.
func storedMessage(c vectorCase, keys vectorKeys) Message {
	return Message{
		Queue:     c.Queue,
		ID:        c.ID,
		Data:      json.RawMessage(c.DataJSON),
		Producer:  c.Producer,
		Key:       c.Key,
		Headers:   c.Headers,
		DeliverAt: timeFromMilliseconds(c.DeliverAt),
		Signature: &Signature{KeyID: keys.evqKeyID, Timestamp: c.Timestamp, Value: c.Storage.Signature},
	}
}

// replaceCharacter returns s with the byte at index replaced by c.
func replaceCharacter(s string, index int, c byte) string {
	var b strings.Builder
	b.WriteString(s[:index])
	b.WriteByte(c)
	b.WriteString(s[index+1:])
	return b.String()
}

// timeFromMilliseconds returns the time of a deliverAt in milliseconds since
// the Unix epoch, or nil for nil.
func timeFromMilliseconds(milliseconds *int64) *time.Time {
	if milliseconds == nil {
		return nil
	}
	at := time.UnixMilli(*milliseconds).UTC()
	return &at
}

// appendedString returns a pointer to *value + suffix, or to suffix when
// value is nil.
func appendedString(value *string, suffix string) *string {
	changed := suffix
	if value != nil {
		changed = *value + suffix
	}
	return &changed
}

// toggledString returns nil for a present value and a pointer to "" for nil,
// so that an empty string and null take each other's place.
func toggledString(value *string) *string {
	if value != nil {
		return nil
	}
	empty := ""
	return &empty
}

// withHeader returns a copy of headers with name set to value.
func withHeader(headers map[string]string, name, value string) map[string]string {
	changed := maps.Clone(headers)
	if changed == nil {
		changed = map[string]string{}
	}
	changed[name] = value
	return changed
}

// changedHeader returns a copy of headers with "x" appended to the value of
// the first header name in byte order. Headers without any names gain the
// header "x-added".
func changedHeader(headers map[string]string) map[string]string {
	if len(headers) == 0 {
		return withHeader(headers, "x-added", "1")
	}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	first := slices.Min(names)
	return withHeader(headers, first, headers[first]+"x")
}

// laterMilliseconds returns a deliverAt one millisecond after milliseconds,
// or 0, the Unix epoch, for nil.
func laterMilliseconds(milliseconds *int64) *int64 {
	later := int64(0)
	if milliseconds != nil {
		later = *milliseconds + 1
	}
	return &later
}

// toggledMilliseconds returns nil for a present deliverAt and a pointer to 0,
// the Unix epoch, for nil, so that 0 and null take each other's place.
func toggledMilliseconds(milliseconds *int64) *int64 {
	if milliseconds != nil {
		return nil
	}
	epoch := int64(0)
	return &epoch
}

// millisecondsOf returns at in milliseconds since the Unix epoch, or nil for
// nil.
func millisecondsOf(at *time.Time) *int64 {
	if at == nil {
		return nil
	}
	milliseconds := at.UnixMilli()
	return &milliseconds
}
