package evq

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// referenceSplit returns the largest power of two below n (n > 1), where
// RFC 6962 section 2.1 splits a tree of n leaves.
func referenceSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// referenceTreeRoot returns the Merkle Tree Hash of one or more leaf hashes,
// written as the recursive definition in RFC 6962 section 2.1.
func referenceTreeRoot(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := referenceSplit(len(leaves))
	return nodeHash(referenceTreeRoot(leaves[:k]), referenceTreeRoot(leaves[k:]))
}

// referenceAuditPath returns the audit path of leaf index, written as the
// recursive definition in RFC 6962 section 2.1.1.
func referenceAuditPath(leaves [][]byte, index int) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := referenceSplit(len(leaves))
	if index < k {
		return append(referenceAuditPath(leaves[:k], index), referenceTreeRoot(leaves[k:]))
	}
	return append(referenceAuditPath(leaves[k:], index-k), referenceTreeRoot(leaves[:k]))
}

// referenceSiblingSides returns, for each hash on the audit path of leaf
// index in a tree of size leaves, whether that sibling is on the left. The
// order is from the leaf up, as in referenceAuditPath.
func referenceSiblingSides(index, size int) []bool {
	if size <= 1 {
		return nil
	}
	k := referenceSplit(size)
	if index < k {
		return append(referenceSiblingSides(index, k), false)
	}
	return append(referenceSiblingSides(index-k, size-k), true)
}

func testLeaves(n int) [][]byte {
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = LeafHash(fmt.Sprintf("leaf %d", i))
	}
	return leaves
}

func TestLeafHashOfEmptyText(t *testing.T) {
	// SHA-256 of the single byte 0x00, the leaf hash of an empty entry in
	// RFC 6962 logs.
	const want = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"

	if got := hex.EncodeToString(LeafHash("")); got != want {
		t.Errorf("LeafHash(\"\") = %s, want %s", got, want)
	}
}

func TestLeafHashUsesUTF8AndPrefix(t *testing.T) {
	text := "évq\n✓"
	sum := sha256.Sum256(append([]byte{0}, []byte(text)...))

	if got := LeafHash(text); !bytes.Equal(got, sum[:]) {
		t.Errorf("LeafHash(%q) = %x, want %x", text, got, sum)
	}
	if plain := sha256.Sum256([]byte(text)); bytes.Equal(LeafHash(text), plain[:]) {
		t.Error("LeafHash equals SHA-256 of the text without the 0x00 prefix")
	}
}

func TestRootFromPathEveryPosition(t *testing.T) {
	for size := 1; size <= 40; size++ {
		leaves := testLeaves(size)
		want := referenceTreeRoot(leaves)

		for index := 0; index < size; index++ {
			path := referenceAuditPath(leaves, index)
			root, ok := RootFromPath(leaves[index], uint64(index), uint64(size), path)
			if !ok {
				t.Errorf("size %d, index %d: RootFromPath rejected the audit path", size, index)
				continue
			}
			if !bytes.Equal(root, want) {
				t.Errorf("size %d, index %d: RootFromPath = %x, want %x", size, index, root, want)
			}
		}
	}
}

// TestRootFromPathOtherPositions checks that a path leads to the same root
// for another index or size exactly when RFC 6962 puts the siblings of that
// leaf on the same sides. A verifier cannot tell such positions apart,
// because the signature covers only the root.
func TestRootFromPathOtherPositions(t *testing.T) {
	for size := 1; size <= 20; size++ {
		leaves := testLeaves(size)
		want := referenceTreeRoot(leaves)

		for index := 0; index < size; index++ {
			path := referenceAuditPath(leaves, index)
			sides := referenceSiblingSides(index, size)

			for otherSize := 1; otherSize <= 2*size+1; otherSize++ {
				for otherIndex := 0; otherIndex < otherSize; otherIndex++ {
					root, ok := RootFromPath(leaves[index], uint64(otherIndex), uint64(otherSize), path)
					leadsToRoot := ok && bytes.Equal(root, want)
					sameShape := slices.Equal(referenceSiblingSides(otherIndex, otherSize), sides)
					if leadsToRoot != sameShape {
						t.Errorf("size %d, index %d, path used as index %d of size %d: leads to the root = %v, want %v", size, index, otherIndex, otherSize, leadsToRoot, sameShape)
					}
				}
			}
		}
	}
}

func TestRootFromPathOneLeaf(t *testing.T) {
	leaf := LeafHash("only")

	root, ok := RootFromPath(leaf, 0, 1, nil)
	if !ok || !bytes.Equal(root, leaf) {
		t.Fatalf("RootFromPath(leaf, 0, 1, nil) = %x, %v, want the leaf hash and true", root, ok)
	}

	root[0] ^= 1
	if !bytes.Equal(leaf, LeafHash("only")) {
		t.Error("changing the returned root changed the leaf that was passed in")
	}
}

func TestRootFromPathRejectsInvalidInput(t *testing.T) {
	leaves := testLeaves(5)
	path := referenceAuditPath(leaves, 2)

	tests := []struct {
		name  string
		leaf  []byte
		index uint64
		size  uint64
		path  [][]byte
	}{
		{"size 0", leaves[0], 0, 0, nil},
		{"index equal to size", leaves[2], 5, 5, path},
		{"index above size", leaves[2], 7, 5, path},
		{"maximum index", leaves[2], math.MaxUint64, math.MaxUint64, path},
		{"short leaf", leaves[2][:31], 2, 5, path},
		{"long leaf", append(bytes.Clone(leaves[2]), 0), 2, 5, path},
		{"empty leaf", nil, 0, 1, nil},
		{"short sibling", leaves[2], 2, 5, [][]byte{path[0][:31], path[1], path[2]}},
		{"long sibling", leaves[2], 2, 5, [][]byte{path[0], append(bytes.Clone(path[1]), 0), path[2]}},
		{"empty path for two leaves", leaves[0], 0, 2, nil},
		{"path for one leaf", leaves[0], 0, 1, [][]byte{leaves[1]}},
		{"65 hashes for the largest tree", leaves[0], 0, math.MaxUint64, repeatHash(leaves[1], 65)},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if root, ok := RootFromPath(test.leaf, test.index, test.size, test.path); ok {
				t.Errorf("RootFromPath = %x, true, want false", root)
			}
		})
	}
}

func TestRootFromPathLargestTree(t *testing.T) {
	// The first leaf of a tree of 2^64 - 1 leaves has 64 siblings: the roots
	// of the subtrees of 1, 2, 4 … 2^62 leaves, then of the last 2^63 - 1.
	leaf := LeafHash("first")
	path := repeatHash(LeafHash("sibling"), 64)

	if _, ok := RootFromPath(leaf, 0, math.MaxUint64, path); !ok {
		t.Error("RootFromPath rejected a 64-hash path for the first leaf of a tree of 2^64 - 1 leaves")
	}
	if _, ok := RootFromPath(leaf, math.MaxUint64-1, math.MaxUint64, path[:63]); !ok {
		t.Error("RootFromPath rejected a 63-hash path for the last leaf of a tree of 2^64 - 1 leaves")
	}
}

func repeatHash(hash []byte, count int) [][]byte {
	path := make([][]byte, count)
	for i := range path {
		path[i] = hash
	}
	return path
}

func TestParseProof(t *testing.T) {
	leaves := testLeaves(3)
	concatenated := bytes.Join([][]byte{leaves[1], leaves[2]}, nil)
	proof := "0:3:" + base64.StdEncoding.EncodeToString(concatenated)

	parsed, err := parseProof(proof)
	if err != nil {
		t.Fatalf("parseProof(%q): %v", proof, err)
	}
	if parsed.index != 0 {
		t.Errorf("index = %d, want 0", parsed.index)
	}
	if parsed.size != 3 {
		t.Errorf("size = %d, want 3", parsed.size)
	}
	if len(parsed.path) != 2 || !bytes.Equal(parsed.path[0], leaves[1]) || !bytes.Equal(parsed.path[1], leaves[2]) {
		t.Errorf("path = %x, want [%x %x]", parsed.path, leaves[1], leaves[2])
	}

	single, err := parseProof("0:1:")
	if err != nil {
		t.Fatalf("parseProof(\"0:1:\"): %v", err)
	}
	if len(single.path) != 0 {
		t.Errorf("path of \"0:1:\" has %d hashes, want 0", len(single.path))
	}
}

func TestParseProofRejectsMalformed(t *testing.T) {
	hash := base64.StdEncoding.EncodeToString(make([]byte, 32))
	twoHashes := base64.StdEncoding.EncodeToString(make([]byte, 64))

	tests := []struct {
		name  string
		proof string
	}{
		{"empty", ""},
		{"two parts", "0:1"},
		{"four parts", "0:2:" + hash + ":"},
		{"empty index", ":2:" + hash},
		{"empty size", "0::" + hash},
		{"negative index", "-1:2:" + hash},
		{"plus sign", "+1:2:" + hash},
		{"leading zero", "01:2:" + hash},
		{"hex index", "0x1:2:" + hash},
		{"underscore", "1_0:20:" + hash},
		{"space", " 1:2:" + hash},
		{"size above uint64", "0:18446744073709551616:" + hash},
		{"base64url", "0:2:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32))},
		{"missing padding", "0:2:" + strings.TrimRight(hash, "=")},
		{"non-zero padding bits", "0:2:" + hash[:len(hash)-2] + "B="},
		{"line break", "0:3:" + twoHashes[:40] + "\n" + twoHashes[40:]},
		{"31-byte hash", "0:2:" + base64.StdEncoding.EncodeToString(make([]byte, 31))},
		{"33-byte hash", "0:2:" + base64.StdEncoding.EncodeToString(make([]byte, 33))},
		{"65 hashes", "0:3:" + base64.StdEncoding.EncodeToString(make([]byte, 65*32))},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if _, err := parseProof(test.proof); !errors.Is(err, errInvalidProof) {
				t.Errorf("parseProof(%q) error = %v, want errInvalidProof", test.proof, err)
			}
		})
	}
}

// signBatch returns messages sealed together as evq seals them: each with a
// v1m signature by privateKey over the root of their leaf hashes and its own
// proof.
func signBatch(t *testing.T, privateKey ed25519.PrivateKey, messages []Message, timestamp int64) []Message {
	t.Helper()

	leaves := make([][]byte, len(messages))
	for i, message := range messages {
		fields := Fields{Queue: message.Queue, ID: message.ID, Timestamp: timestamp, Data: message.Data}
		canonical, err := StorageCanonicalString(fields, message.StoredFields())
		if err != nil {
			t.Fatalf("StorageCanonicalString: %v", err)
		}
		leaves[i] = LeafHash(canonical)
	}
	root := referenceTreeRoot(leaves)
	value := v1mPrefix + base64.StdEncoding.EncodeToString(ed25519.Sign(privateKey, []byte(signedRootText(root))))

	signed := make([]Message, len(messages))
	for i, message := range messages {
		path := bytes.Join(referenceAuditPath(leaves, i), nil)
		proof := fmt.Sprintf("%d:%d:%s", i, len(messages), base64.StdEncoding.EncodeToString(path))
		message.Signature = &Signature{KeyID: testKeyID, Timestamp: timestamp, Value: value, Proof: proof}
		signed[i] = message
	}
	return signed
}

func testBatch(size int) []Message {
	messages := make([]Message, size)
	for i := range messages {
		message := testMessage()
		message.ID = fmt.Sprintf("order-%d", i)
		messages[i] = message
	}
	return messages
}

func TestVerifierAcceptsBatchedMessages(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)

	for _, size := range []int{1, 2, 3, 7, 8, 9} {
		for _, message := range signBatch(t, privateKey, testBatch(size), 1767225600) {
			if err := verifier.Verify(message); err != nil {
				t.Errorf("batch of %d, proof %s: Verify: %v", size, message.Signature.Proof, err)
			}
		}
	}
}

func TestVerifierAcceptsDecodedBatchedMessage(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	signed := signBatch(t, privateKey, testBatch(3), 1767225600)[1]

	response := `{"queue":"orders","id":"order-1","producer":"service:billing","key":"customer-7",` +
		`"headers":{"trace-id":"abc123","source":"checkout"},"deliverAt":"2026-01-01T01:00:00.250Z",` +
		`"data":{"items":[1,2],"amount":19.99},` +
		`"signature":{"keyId":"` + testKeyID + `","timestamp":1767225600,"nonce":"",` +
		`"value":"` + signed.Signature.Value + `","proof":"` + signed.Signature.Proof + `"}}`
	var decoded Message
	if err := json.Unmarshal([]byte(response), &decoded); err != nil {
		t.Fatalf("decode message: %v", err)
	}

	if err := verifier.Verify(decoded); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestVerifierV1aIgnoresProof(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signStored(t, privateKey, testMessage(), 1767225600)
	message.Signature.Proof = "not a proof"

	if err := verifier.Verify(message); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestVerifierRejectsBadProof(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	batch := signBatch(t, privateKey, testBatch(3), 1767225600)

	tests := []struct {
		name      string
		proof     string
		malformed bool
		wantText  string
	}{
		{"empty", "", false, "request the proof field"},
		{"malformed", "0:3", true, "colon-separated"},
		{"leading zero", "0" + batch[0].Signature.Proof, true, "leading zeros"},
		{"wrong size", strings.Replace(batch[0].Signature.Proof, "0:3:", "0:9:", 1), false, "does not fit"},
		{"wrong index", strings.Replace(batch[0].Signature.Proof, "0:3:", "1:3:", 1), false, "Merkle root"},
		{"proof of other message", batch[1].Signature.Proof, false, "Merkle root"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			message := batch[0]
			signature := *message.Signature
			signature.Proof = test.proof
			message.Signature = &signature

			err := verifier.Verify(message)
			if !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("Verify error = %v, want ErrInvalidSignature", err)
			}
			if got := errors.Is(err, errInvalidProof); got != test.malformed {
				t.Errorf("errors.Is(err, errInvalidProof) = %v, want %v for %v", got, test.malformed, err)
			}
			for _, part := range []string{test.wantText, `"order-0"`, testKeyID, "v1m"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestVerifierRejectsMalformedV1mValue(t *testing.T) {
	verifier, privateKey := newTestVerifier(t)
	message := signBatch(t, privateKey, testBatch(2), 1767225600)[0]
	encoded := strings.TrimPrefix(message.Signature.Value, v1mPrefix)

	for _, value := range []string{"v1m=", "v1m=" + encoded[:len(encoded)-4], "v1m=" + strings.TrimRight(encoded, "="), "v1m=" + encoded + "AAAA"} {
		message.Signature.Value = value
		if err := verifier.Verify(message); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("Verify with value %q: error = %v, want ErrInvalidSignature", value, err)
		}
	}
}
