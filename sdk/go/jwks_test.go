package evq

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseJWKSReadsEd25519Keys(t *testing.T) {
	_, publicKey := testKeyPair()
	x := base64.RawURLEncoding.EncodeToString(publicKey)
	jwks := `{"keys":[
		{"kty":"OKP","crv":"Ed25519","kid":"evq-1","x":"` + x + `","use":"sig","alg":"EdDSA"},
		{"kty":"RSA","kid":"rsa-1","n":"AQAB","e":"AQAB"},
		{"kty":"OKP","crv":"X25519","kid":"x-1","x":"` + x + `"}
	]}`

	keys, err := ParseJWKS([]byte(jwks))
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	if len(keys) != 1 {
		t.Errorf("ParseJWKS returned %d keys, want 1", len(keys))
	}
	if !bytes.Equal(keys["evq-1"], publicKey) {
		t.Errorf("key evq-1 = %x, want %x", keys["evq-1"], publicKey)
	}
}

func TestParseJWKSRejectsInvalidKeys(t *testing.T) {
	_, publicKey := testKeyPair()
	x := base64.RawURLEncoding.EncodeToString(publicKey)

	tests := []struct {
		name     string
		jwks     string
		wantText string
	}{
		{"not JSON", `{"keys":`, "invalid JSON Web Key Set"},
		{"missing kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}]}`, "has no kid"},
		{"repeated kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"` + x + `"},{"kty":"OKP","crv":"Ed25519","kid":"a","x":"` + x + `"}]}`, `kid "a" occurs more than once`},
		{"padded x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"` + x + `="}]}`, "unpadded base64url"},
		{"standard base64 x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"` + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)) + `"}]}`, "unpadded base64url"},
		{"short x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"` + x[:40] + `"}]}`, "not 32 bytes"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			keys, err := ParseJWKS([]byte(test.jwks))
			if err == nil {
				t.Fatalf("ParseJWKS returned %d keys, want an error", len(keys))
			}
			if !strings.Contains(err.Error(), test.wantText) {
				t.Errorf("error %q does not contain %q", err, test.wantText)
			}
		})
	}
}

func TestParseJWKSEmptySet(t *testing.T) {
	keys, err := ParseJWKS([]byte(`{"keys":[]}`))
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	if len(keys) != 0 {
		t.Errorf("ParseJWKS returned %d keys, want 0", len(keys))
	}
}
