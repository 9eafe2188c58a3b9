package evq

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

const (
	v1Prefix  = "v1="
	v1aPrefix = "v1a="
)

// SignV1 returns the v1 signature value of a canonical string: "v1=" and the
// standard base64 of its HMAC-SHA256. The key is the UTF-8 bytes of the queue
// key's secret exactly as evq returned it (evq_qk_…).
func SignV1(secret, canonical string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(canonical))
	return v1Prefix + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyV1 reports whether value is the v1 signature of canonical under
// secret. It compares value with the expected value in constant time, and it
// returns false for any other form of value.
func VerifyV1(secret, canonical, value string) bool {
	return hmac.Equal([]byte(SignV1(secret, canonical)), []byte(value))
}

// SignV1a returns the v1a signature value of a canonical string: "v1a=" and
// the standard base64 of its Ed25519 signature. Like [ed25519.Sign], it panics
// when privateKey is not [ed25519.PrivateKeySize] bytes long.
func SignV1a(privateKey ed25519.PrivateKey, canonical string) string {
	signature := ed25519.Sign(privateKey, []byte(canonical))
	return v1aPrefix + base64.StdEncoding.EncodeToString(signature)
}

// VerifyV1a reports whether value is a valid v1a signature of canonical by
// publicKey. It returns false when value lacks the "v1a=" prefix, is not
// canonical standard base64 of 64 bytes, or when publicKey is not
// [ed25519.PublicKeySize] bytes long.
func VerifyV1a(publicKey ed25519.PublicKey, canonical, value string) bool {
	if len(publicKey) != ed25519.PublicKeySize {
		return false
	}
	signature, ok := decodeSignatureValue(value, v1aPrefix)
	if !ok || len(signature) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(publicKey, []byte(canonical), signature)
}

// decodeSignatureValue returns the bytes of a "<prefix><standard base64>"
// value. It accepts only the canonical encoding: padded, with zero padding
// bits and no line breaks, which the decoder alone would skip.
func decodeSignatureValue(value, prefix string) ([]byte, bool) {
	text, found := strings.CutPrefix(value, prefix)
	if !found {
		return nil, false
	}
	decoded, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil || base64.StdEncoding.EncodeToString(decoded) != text {
		return nil, false
	}
	return decoded, true
}
