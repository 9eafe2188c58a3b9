package evq

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// jsonWebKey contains the members of an RFC 7517 JSON Web Key that an
// Ed25519 public key (RFC 8037) needs.
type jsonWebKey struct {
	KeyType string `json:"kty"`
	Curve   string `json:"crv"`
	KeyID   string `json:"kid"`
	X       string `json:"x"`
}

// ParseJWKS returns the Ed25519 public keys of an RFC 7517 JSON Web Key Set,
// such as evq's /.well-known/jwks.json, indexed by key id. It skips keys of
// other types or curves. It returns an error for invalid JSON and for an
// Ed25519 key that has no kid, repeats a kid, or whose x is not 32 bytes of
// unpadded base64url.
func ParseJWKS(data []byte) (map[string]ed25519.PublicKey, error) {
	var set struct {
		Keys []jsonWebKey `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("evq: invalid JSON Web Key Set: %w", err)
	}

	publicKeys := make(map[string]ed25519.PublicKey, len(set.Keys))
	for i, key := range set.Keys {
		if key.KeyType != "OKP" || key.Curve != "Ed25519" {
			continue
		}
		if key.KeyID == "" {
			return nil, fmt.Errorf("evq: invalid JSON Web Key Set: Ed25519 key %d has no kid", i)
		}
		if _, repeated := publicKeys[key.KeyID]; repeated {
			return nil, fmt.Errorf("evq: invalid JSON Web Key Set: kid %q occurs more than once", key.KeyID)
		}

		raw, err := base64.RawURLEncoding.Strict().DecodeString(key.X)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("evq: invalid JSON Web Key Set: x of key %q is not %d bytes of unpadded base64url", key.KeyID, ed25519.PublicKeySize)
		}
		publicKeys[key.KeyID] = ed25519.PublicKey(raw)
	}
	return publicKeys, nil
}
