package evq

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// batchMember is one message of a vector batch with its leaf hash and proof.
type batchMember struct {
	c     vectorCase
	leaf  string
	proof string
}

// batchMembers returns the cases of batch in batch order, with their leaf
// hashes and proofs. It fails the test when the batch names an unknown case
// or its lists differ in length.
func batchMembers(t *testing.T, batch vectorBatch, cases []vectorCase) []batchMember {
	t.Helper()

	if len(batch.Leaves) != len(batch.Cases) || len(batch.Proofs) != len(batch.Cases) {
		t.Fatalf("batch %q lists %d cases, %d leaves and %d proofs", batch.Name, len(batch.Cases), len(batch.Leaves), len(batch.Proofs))
	}
	byName := make(map[string]vectorCase, len(cases))
	for _, c := range cases {
		byName[c.Name] = c
	}

	members := make([]batchMember, 0, len(batch.Cases))
	for i, name := range batch.Cases {
		c, found := byName[name]
		if !found {
			t.Fatalf("batch %q names the case %q, which the vectors lack", batch.Name, name)
		}
		members = append(members, batchMember{c: c, leaf: batch.Leaves[i], proof: batch.Proofs[i]})
	}
	return members
}

// batchMessage returns the message of a vector case as a consumer receives
// it from a batch, carrying the batch's v1m signature and proof.
func batchMessage(c vectorCase, keys vectorKeys, value, proof string) Message {
	message := storedMessage(c, keys)
	message.Signature.Value = value
	message.Signature.Proof = proof
	return message
}

func TestVectorsBatchLeavesAndRoot(t *testing.T) {
	_, cases, batches := loadVectorFile(t)

	for _, batch := range batches {
		t.Run(batch.Name, func(t *testing.T) {
			members := batchMembers(t, batch, cases)
			leaves := make([][]byte, 0, len(members))
			for i, member := range members {
				leaf := LeafHash(member.c.Storage.Canonical)
				if got := hex.EncodeToString(leaf); got != member.leaf {
					t.Errorf("LeafHash of case %q = %s, want %s", member.c.Name, got, member.leaf)
				}
				leaves = append(leaves, leaf)

				parsed, err := parseProof(member.proof)
				if err != nil {
					t.Fatalf("parseProof(%q): %v", member.proof, err)
				}
				if parsed.index != uint64(i) || parsed.size != uint64(len(members)) {
					t.Errorf("proof %q has index %d and size %d, want %d and %d", member.proof, parsed.index, parsed.size, i, len(members))
				}
				root, ok := RootFromPath(leaf, parsed.index, parsed.size, parsed.path)
				if !ok {
					t.Fatalf("RootFromPath rejected the proof %q", member.proof)
				}
				if got := hex.EncodeToString(root); got != batch.Root {
					t.Errorf("RootFromPath with proof %q = %s, want %s", member.proof, got, batch.Root)
				}
			}

			if got := hex.EncodeToString(referenceTreeRoot(leaves)); got != batch.Root {
				t.Errorf("root of the leaf hashes = %s, want %s", got, batch.Root)
			}
		})
	}
}

func TestVectorsBatchSignature(t *testing.T) {
	keys, _, batches := loadVectorFile(t)

	for _, batch := range batches {
		t.Run(batch.Name, func(t *testing.T) {
			root, err := hex.DecodeString(batch.Root)
			if err != nil {
				t.Fatalf("root %q is not hex: %v", batch.Root, err)
			}
			if got := signedRootText(root); got != batch.SignedRoot {
				t.Errorf("signedRootText = %q, want %q", got, batch.SignedRoot)
			}

			signature := ed25519.Sign(keys.evqPrivate, []byte(batch.SignedRoot))
			if got := v1mPrefix + base64.StdEncoding.EncodeToString(signature); got != batch.Signature {
				t.Errorf("v1m signature of the signed root with evq's key = %s, want %s", got, batch.Signature)
			}

			decoded, ok := decodeSignatureValue(batch.Signature, v1mPrefix)
			if !ok {
				t.Fatalf("signature %q is not v1m= and canonical base64", batch.Signature)
			}
			if !ed25519.Verify(keys.evqPublic, []byte(batch.SignedRoot), decoded) {
				t.Error("ed25519.Verify rejected the vector's v1m signature under evq's key")
			}
			if ed25519.Verify(keys.producerPublic, []byte(batch.SignedRoot), decoded) {
				t.Error("ed25519.Verify accepted the vector's v1m signature under the producer's key")
			}
		})
	}
}

func TestVectorsBatchVerify(t *testing.T) {
	keys, cases, batches := loadVectorFile(t)
	verifier := newVectorVerifier(t, keys)

	for _, batch := range batches {
		for _, member := range batchMembers(t, batch, cases) {
			t.Run(batch.Name+"/"+member.c.Name, func(t *testing.T) {
				message := batchMessage(member.c, keys, batch.Signature, member.proof)
				if err := verifier.Verify(message); err != nil {
					t.Errorf("Verifier.Verify: %v", err)
				}
			})
		}
	}
}

func TestVectorsBatchProofOfOtherMessageFails(t *testing.T) {
	keys, cases, batches := loadVectorFile(t)
	verifier := newVectorVerifier(t, keys)

	for _, batch := range batches {
		members := batchMembers(t, batch, cases)
		if len(members) < 2 {
			continue
		}
		for i, member := range members {
			other := members[(i+1)%len(members)]
			t.Run(batch.Name+"/"+member.c.Name, func(t *testing.T) {
				message := batchMessage(member.c, keys, batch.Signature, other.proof)
				if err := verifier.Verify(message); !errors.Is(err, ErrInvalidSignature) {
					t.Errorf("Verifier.Verify with the proof of case %q: error = %v, want ErrInvalidSignature", other.c.Name, err)
				}
			})
		}
	}
}

// proofTampering is a change to a proof that must make it fail.
type proofTampering struct {
	name  string
	proof string
}

// tamperedProofs returns changed copies of a valid proof that must fail. They
// flip one bit of a sibling, change the index, set a size that does not
// exceed the index, drop or add a hash, or spell the proof non-canonically.
// TestVectorsBatchOtherSize tests the sizes that exceed the index.
func tamperedProofs(t *testing.T, proof string) []proofTampering {
	t.Helper()

	parsed, err := parseProof(proof)
	if err != nil {
		t.Fatalf("parseProof(%q): %v", proof, err)
	}

	var tamperings []proofTampering
	for i := range parsed.path {
		for _, bit := range []int{0, 8*32 - 1} {
			path := clonePath(parsed.path)
			path[i][bit/8] ^= 1 << (bit % 8)
			tamperings = append(tamperings, proofTampering{fmt.Sprintf("bit %d of sibling %d flipped", bit, i), formatProof(parsed.index, parsed.size, path)})
		}
	}

	for index := uint64(0); index <= parsed.size; index++ {
		if index != parsed.index {
			tamperings = append(tamperings, proofTampering{fmt.Sprintf("index %d", index), formatProof(index, parsed.size, parsed.path)})
		}
	}
	for size := uint64(0); size <= parsed.index; size++ {
		tamperings = append(tamperings, proofTampering{fmt.Sprintf("size %d", size), formatProof(parsed.index, size, parsed.path)})
	}

	if len(parsed.path) > 0 {
		tamperings = append(tamperings,
			proofTampering{"path without its last hash", formatProof(parsed.index, parsed.size, parsed.path[:len(parsed.path)-1])},
			proofTampering{"path without its first hash", formatProof(parsed.index, parsed.size, parsed.path[1:])},
			proofTampering{"last hash repeated", formatProof(parsed.index, parsed.size, append(clonePath(parsed.path), parsed.path[len(parsed.path)-1]))},
		)
	}

	zeroHash := make([]byte, 32)
	tamperings = append(tamperings,
		proofTampering{"extra zero hash at the end", formatProof(parsed.index, parsed.size, append(clonePath(parsed.path), zeroHash))},
		proofTampering{"extra zero hash at the start", formatProof(parsed.index, parsed.size, append([][]byte{zeroHash}, parsed.path...))},
		proofTampering{"path with half a hash more", formatProof(parsed.index, parsed.size, append(clonePath(parsed.path), zeroHash[:16]))},
		proofTampering{"index with leading zero", "0" + proof},
		proofTampering{"empty", ""},
	)
	return tamperings
}

// formatProof returns the proof text of an index, a size and an audit path.
func formatProof(index, size uint64, path [][]byte) string {
	return fmt.Sprintf("%d:%d:%s", index, size, base64.StdEncoding.EncodeToString(bytes.Join(path, nil)))
}

func clonePath(path [][]byte) [][]byte {
	cloned := make([][]byte, len(path))
	for i, hash := range path {
		cloned[i] = bytes.Clone(hash)
	}
	return cloned
}

func TestVectorsBatchTamperedProofsFail(t *testing.T) {
	keys, cases, batches := loadVectorFile(t)
	verifier := newVectorVerifier(t, keys)

	for _, batch := range batches {
		for _, member := range batchMembers(t, batch, cases) {
			for _, tampering := range tamperedProofs(t, member.proof) {
				t.Run(batch.Name+"/"+member.c.Name+"/"+tampering.name, func(t *testing.T) {
					if tampering.proof == member.proof {
						t.Fatalf("tampering left the proof %q unchanged", member.proof)
					}
					message := batchMessage(member.c, keys, batch.Signature, tampering.proof)
					if err := verifier.Verify(message); !errors.Is(err, ErrInvalidSignature) {
						t.Errorf("Verifier.Verify with proof %q: error = %v, want ErrInvalidSignature", tampering.proof, err)
					}
				})
			}
		}
	}
}

// TestVectorsBatchOtherSize checks every other size from 1 to twice the
// batch size plus one. The signature covers the root and not the proof's
// size, so RFC 9162 verification rejects a size only when it puts the
// siblings of the leaf on other sides. Any other size leads to the same root
// and verifies.
func TestVectorsBatchOtherSize(t *testing.T) {
	keys, cases, batches := loadVectorFile(t)
	verifier := newVectorVerifier(t, keys)

	for _, batch := range batches {
		for _, member := range batchMembers(t, batch, cases) {
			parsed, err := parseProof(member.proof)
			if err != nil {
				t.Fatalf("parseProof(%q): %v", member.proof, err)
			}
			sides := referenceSiblingSides(int(parsed.index), int(parsed.size))

			for size := parsed.index + 1; size <= 2*parsed.size+1; size++ {
				if size == parsed.size {
					continue
				}
				sameShape := slices.Equal(referenceSiblingSides(int(parsed.index), int(size)), sides)
				t.Run(fmt.Sprintf("%s/%s/size %d", batch.Name, member.c.Name, size), func(t *testing.T) {
					message := batchMessage(member.c, keys, batch.Signature, formatProof(parsed.index, size, parsed.path))
					err := verifier.Verify(message)
					if sameShape && err != nil {
						t.Errorf("Verifier.Verify with a size of the same path shape: %v", err)
					}
					if !sameShape && !errors.Is(err, ErrInvalidSignature) {
						t.Errorf("Verifier.Verify error = %v, want ErrInvalidSignature", err)
					}
				})
			}
		}
	}
}

func TestVectorsBatchTamperedMessageFails(t *testing.T) {
	keys, cases, batches := loadVectorFile(t)
	verifier := newVectorVerifier(t, keys)

	changes := []struct {
		name   string
		change func(m *Message)
	}{
		{"changed data", func(m *Message) { m.Data = json.RawMessage("[" + string(m.Data) + "]") }},
		{"changed queue", func(m *Message) { m.Queue += "x" }},
		{"changed id", func(m *Message) { m.ID += "x" }},
		{"changed producer", func(m *Message) { m.Producer = appendedString(m.Producer, "x") }},
		{"producer removed or added", func(m *Message) { m.Producer = toggledString(m.Producer) }},
		{"changed key", func(m *Message) { m.Key = appendedString(m.Key, "x") }},
		{"key removed or added", func(m *Message) { m.Key = toggledString(m.Key) }},
		{"added header", func(m *Message) { m.Headers = withHeader(m.Headers, "x-added", "1") }},
		{"changed header", func(m *Message) { m.Headers = changedHeader(m.Headers) }},
		{"changed deliverAt", func(m *Message) { m.DeliverAt = timeFromMilliseconds(laterMilliseconds(millisecondsOf(m.DeliverAt))) }},
		{"deliverAt removed or added", func(m *Message) { m.DeliverAt = timeFromMilliseconds(toggledMilliseconds(millisecondsOf(m.DeliverAt))) }},
		{"changed timestamp", func(m *Message) { m.Signature.Timestamp++ }},
		{"flipped signature bit", func(m *Message) { m.Signature.Value = flipSignatureBit(t, m.Signature.Value) }},
		{"v1a prefix", func(m *Message) { m.Signature.Value = "v1a=" + strings.TrimPrefix(m.Signature.Value, v1mPrefix) }},
	}

	for _, batch := range batches {
		for _, member := range batchMembers(t, batch, cases) {
			for _, change := range changes {
				t.Run(batch.Name+"/"+member.c.Name+"/"+change.name, func(t *testing.T) {
					message := batchMessage(member.c, keys, batch.Signature, member.proof)
					change.change(&message)
					if err := verifier.Verify(message); !errors.Is(err, ErrInvalidSignature) {
						t.Errorf("Verifier.Verify error = %v, want ErrInvalidSignature", err)
					}
				})
			}
		}
	}
}

// flipSignatureBit returns a v1m value whose signature differs from that of
// value in its first bit.
func flipSignatureBit(t *testing.T, value string) string {
	t.Helper()

	signature, ok := decodeSignatureValue(value, v1mPrefix)
	if !ok {
		t.Fatalf("%q is not a v1m value", value)
	}
	signature[0] ^= 1
	return v1mPrefix + base64.StdEncoding.EncodeToString(signature)
}
