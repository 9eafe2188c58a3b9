package evq

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
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
	Name       string  `json:"name"`
	Queue      string  `json:"queue"`
	ID         string  `json:"id"`
	Timestamp  int64   `json:"timestamp"`
	Nonce      string  `json:"nonce"`
	DataJSON   string  `json:"dataJson"`
	Producer   *string `json:"producer"`
	JCS        string  `json:"jcs"`
	DataSHA256 string  `json:"dataSha256"`
	Canonical  string  `json:"canonical"`
	V1         string  `json:"v1"`
	V1a        string  `json:"v1a"`
	Storage    struct {
		Canonical string `json:"canonical"`
		Signature string `json:"signature"`
	} `json:"storage"`
}

func (c vectorCase) fields() Fields {
	return Fields{Queue: c.Queue, ID: c.ID, Timestamp: c.Timestamp, Nonce: c.Nonce, Data: json.RawMessage(c.DataJSON)}
}

// producer returns the producer id, with null in the vectors read as empty.
func (c vectorCase) producer() string {
	if c.Producer == nil {
		return ""
	}
	return *c.Producer
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

			storage, err := StorageCanonicalString(c.fields(), c.producer())
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
	fields   Fields
	producer string
	v1       string
	v1a      string
	storage  string
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
		{"changed producer", false, true, func(m *signedMessage) { m.producer += "x" }},
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
				m := signedMessage{fields: c.fields(), producer: c.producer(), v1: c.V1, v1a: c.V1a, storage: c.Storage.Signature}
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
					Producer:  m.producer,
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

			storage, err := StorageCanonicalString(fields, c.producer())
			if err != nil {
				t.Fatalf("StorageCanonicalString: %v", err)
			}
			if storage != c.Storage.Canonical {
				t.Errorf("StorageCanonicalString = %q, want %q", storage, c.Storage.Canonical)
			}
		})
	}
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
		Producer:  c.producer(),
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
