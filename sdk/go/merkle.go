package evq

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// evq seals the storage canonical strings of the messages that it stores
// together as one Merkle tree, as RFC 6962 section 2.1 defines it. A leaf hash
// is SHA-256 of 0x00 and the leaf's text, an inner node is SHA-256 of 0x01 and
// its two children, and a tree of n > 1 leaves puts the first k leaves on the
// left, where k is the largest power of two below n. evq signs the root once,
// and each message carries its audit path to that root as its proof.
const (
	v1mPrefix = "v1m="

	// signedRootVersion is the first line of the text that a v1m signature
	// covers. The second line is the lowercase hex Merkle root.
	signedRootVersion = "evq-v1m"

	// maxAuditPathLength is the longest audit path of a tree whose size fits
	// in a uint64, because each hash on the path halves the tree.
	maxAuditPathLength = 64
)

var (
	leafPrefix = []byte{0x00}
	nodePrefix = []byte{0x01}
)

// LeafHash returns the RFC 6962 leaf hash of text: SHA-256 of the byte 0x00
// followed by the UTF-8 bytes of text. For evq's storage signature, text is
// the message's [StorageCanonicalString].
func LeafHash(text string) []byte {
	hash := sha256.New()
	hash.Write(leafPrefix)
	hash.Write([]byte(text))
	return hash.Sum(nil)
}

func nodeHash(left, right []byte) []byte {
	hash := sha256.New()
	hash.Write(nodePrefix)
	hash.Write(left)
	hash.Write(right)
	return hash.Sum(nil)
}

// RootFromPath returns the root of the Merkle tree of size leaves that the
// leaf hash at position index and its audit path lead to, with the algorithm
// of RFC 9162 section 2.1.3.2. path lists the sibling hashes from the leaf up.
// A tree of one leaf has an empty path, and its root is the leaf hash.
//
// It returns false when index is not below size, when path is too short or
// too long for that position in a tree of that size, or when leaf or a path
// hash is not [sha256.Size] bytes long. A true result only means that the
// path has the right shape, so the caller must compare the root with a
// trusted one.
func RootFromPath(leaf []byte, index, size uint64, path [][]byte) ([]byte, bool) {
	if index >= size || len(leaf) != sha256.Size {
		return nil, false
	}

	// fn is the position of the current node on its level, and sn is the
	// position of the last node on that level.
	fn := index
	sn := size - 1
	root := bytes.Clone(leaf)
	for _, sibling := range path {
		if sn == 0 || len(sibling) != sha256.Size {
			return nil, false
		}

		if fn%2 == 1 || fn == sn {
			root = nodeHash(sibling, root)
			// A last node at an even position has no right sibling, so it
			// moves up unchanged until it becomes a right child or the
			// leftmost node of its level.
			for fn%2 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			root = nodeHash(root, sibling)
		}
		fn >>= 1
		sn >>= 1
	}

	if sn != 0 {
		return nil, false
	}
	return root, true
}

// signedRootText returns the text that a v1m signature covers: "evq-v1m", a
// line feed and the lowercase hex root.
func signedRootText(root []byte) string {
	return signedRootVersion + "\n" + hex.EncodeToString(root)
}

// errInvalidProof is wrapped by the errors of parseProof, so that tests can
// tell a malformed proof from one that leads to the wrong root.
var errInvalidProof = errors.New("invalid proof")

// inclusionProof is a parsed proof of a v1m signature.
type inclusionProof struct {
	index uint64
	size  uint64
	path  [][]byte
}

// parseProof parses "<index>:<size>:<standard base64 of the audit path>",
// where the audit path is the concatenation of 32-byte hashes. It accepts
// only the canonical form: decimal numbers without a sign or leading zeros,
// and padded base64 with zero padding bits and no line breaks. The path is
// empty for a tree of one leaf.
func parseProof(proof string) (inclusionProof, error) {
	parts := strings.Split(proof, ":")
	if len(parts) != 3 {
		return inclusionProof{}, fmt.Errorf("%w: it has %d colon-separated parts, but a proof is <index>:<size>:<base64 audit path>", errInvalidProof, len(parts))
	}

	index, err := parseProofNumber(parts[0])
	if err != nil {
		return inclusionProof{}, fmt.Errorf("%w: index: %w", errInvalidProof, err)
	}
	size, err := parseProofNumber(parts[1])
	if err != nil {
		return inclusionProof{}, fmt.Errorf("%w: size: %w", errInvalidProof, err)
	}

	encoded := parts[2]
	concatenated, err := base64.StdEncoding.Strict().DecodeString(encoded)
	if err != nil || base64.StdEncoding.EncodeToString(concatenated) != encoded {
		return inclusionProof{}, fmt.Errorf("%w: the audit path is not canonical padded standard base64", errInvalidProof)
	}
	if len(concatenated)%sha256.Size != 0 {
		return inclusionProof{}, fmt.Errorf("%w: the audit path has %d bytes, which is not a multiple of the %d-byte hash size", errInvalidProof, len(concatenated), sha256.Size)
	}
	if len(concatenated)/sha256.Size > maxAuditPathLength {
		return inclusionProof{}, fmt.Errorf("%w: the audit path has %d hashes, but no tree needs more than %d", errInvalidProof, len(concatenated)/sha256.Size, maxAuditPathLength)
	}

	path := make([][]byte, 0, len(concatenated)/sha256.Size)
	for start := 0; start < len(concatenated); start += sha256.Size {
		path = append(path, concatenated[start:start+sha256.Size])
	}
	return inclusionProof{index: index, size: size, path: path}, nil
}

// parseProofNumber parses a decimal number of a proof in its canonical form,
// so that each proof has exactly one spelling.
func parseProofNumber(text string) (uint64, error) {
	number, err := strconv.ParseUint(text, 10, 64)
	if err != nil || strconv.FormatUint(number, 10) != text {
		return 0, fmt.Errorf("%q is not a decimal number without sign or leading zeros", text)
	}
	return number, nil
}

// verifyV1m returns nil when value is a v1m signature by publicKey over the
// Merkle root that the leaf of canonical and proof lead to. The error
// describes the first check that failed.
func verifyV1m(publicKey ed25519.PublicKey, canonical, value, proof string) error {
	signature, ok := decodeSignatureValue(value, v1mPrefix)
	if !ok || len(signature) != ed25519.SignatureSize {
		return fmt.Errorf("the value is not \"v1m=\" and canonical standard base64 of %d bytes", ed25519.SignatureSize)
	}
	if proof == "" {
		return errors.New("a v1m signature needs the message's proof, but the proof is empty; request the proof field with the signature")
	}

	parsed, err := parseProof(proof)
	if err != nil {
		return err
	}
	root, ok := RootFromPath(LeafHash(canonical), parsed.index, parsed.size, parsed.path)
	if !ok {
		return fmt.Errorf("the audit path of %d hashes does not fit leaf %d of a tree of %d leaves", len(parsed.path), parsed.index, parsed.size)
	}

	if !ed25519.Verify(publicKey, []byte(signedRootText(root)), signature) {
		return errors.New("the signature does not cover the Merkle root that the message and its proof lead to")
	}
	return nil
}
