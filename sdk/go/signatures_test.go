package evq

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
)

const testCanonical = "evq-v1\norders\norder-1\n1767225600\nn\n" +
	"74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"

func testKeyPair() (ed25519.PrivateKey, ed25519.PublicKey) {
	privateKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	return privateKey, privateKey.Public().(ed25519.PublicKey)
}

func TestVerifyV1aRejectsMalformedValues(t *testing.T) {
	privateKey, publicKey := testKeyPair()
	value := SignV1a(privateKey, testCanonical)
	encoded := strings.TrimPrefix(value, "v1a=")
	if !VerifyV1a(publicKey, testCanonical, value) {
		t.Fatal("VerifyV1a rejected a fresh signature")
	}

	tests := []struct {
		name  string
		value string
	}{
		{"empty", ""},
		{"prefix only", "v1a="},
		{"no prefix", encoded},
		{"v1 prefix", "v1=" + encoded},
		{"upper-case prefix", "V1A=" + encoded},
		{"space after prefix", "v1a= " + encoded},
		{"non-base64 character", "v1a=" + strings.Replace(encoded, encoded[:1], "*", 1)},
		{"base64url alphabet", "v1a=" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 64)))},
		{"missing padding", "v1a=" + strings.TrimRight(encoded, "=")},
		{"line break inside", "v1a=" + encoded[:40] + "\n" + encoded[40:]},
		{"63 bytes", "v1a=" + base64.StdEncoding.EncodeToString(make([]byte, 63))},
		{"65 bytes", "v1a=" + base64.StdEncoding.EncodeToString(append(make([]byte, 64), 0))},
		{"trailing data", value + "AAAA"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if VerifyV1a(publicKey, testCanonical, test.value) {
				t.Errorf("VerifyV1a accepted %q", test.value)
			}
		})
	}
}

func TestVerifyV1aRejectsNonZeroPaddingBits(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	privateKey, publicKey := testKeyPair()
	value := SignV1a(privateKey, testCanonical)

	// 64 bytes encode as 86 characters and "==". The last of those
	// characters ends in 4 padding bits, which are zero in the canonical
	// encoding. Setting one keeps the decoded bytes the same.
	lastIndex := len(value) - 3
	digit := strings.IndexByte(alphabet, value[lastIndex])
	altered := value[:lastIndex] + string(alphabet[digit^1]) + "=="

	if VerifyV1a(publicKey, testCanonical, altered) {
		t.Errorf("VerifyV1a accepted the non-canonical encoding %q", altered)
	}
}

func TestVerifyV1aRejectsBadPublicKey(t *testing.T) {
	privateKey, publicKey := testKeyPair()
	value := SignV1a(privateKey, testCanonical)

	for _, key := range []ed25519.PublicKey{nil, publicKey[:31], append(append(ed25519.PublicKey{}, publicKey...), 0)} {
		if VerifyV1a(key, testCanonical, value) {
			t.Errorf("VerifyV1a accepted a %d-byte public key", len(key))
		}
	}
}

func TestVerifyV1RejectsMalformedValues(t *testing.T) {
	const secret = "evq_qk_test.secret"
	value := SignV1(secret, testCanonical)
	encoded := strings.TrimPrefix(value, "v1=")
	if !VerifyV1(secret, testCanonical, value) {
		t.Fatal("VerifyV1 rejected a fresh signature")
	}

	tests := []struct {
		name  string
		value string
	}{
		{"empty", ""},
		{"no prefix", encoded},
		{"v1a prefix", "v1a=" + encoded},
		{"truncated", value[:len(value)-1]},
		{"trailing newline", value + "\n"},
		{"non-base64 character", "v1=*" + encoded[1:]},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if VerifyV1(secret, testCanonical, test.value) {
				t.Errorf("VerifyV1 accepted %q", test.value)
			}
		})
	}
}
