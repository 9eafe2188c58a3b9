package evq_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"

	evq "github.com/evq-dev/evq/sdk/go"
)

func ExampleSignV1() {
	// A producer signs a publish with the id and secret that createQueueKey
	// returned. In real use, Timestamp is time.Now().Unix() and Nonce is a
	// fresh random string.
	fields := evq.Fields{
		Queue:     "orders",
		ID:        "order-42",
		Timestamp: 1767225600,
		Nonce:     "n-0001",
		Data:      json.RawMessage(`{"orderId":42,"amount":19.99,"currency":"EUR"}`),
	}
	canonical, err := evq.CanonicalString(fields)
	if err != nil {
		log.Fatal(err)
	}

	secret := "evq_qk_vectorKeyId0001.UmFuZG9tLWxvb2tpbmcgc2VjcmV0IGZvciB0ZXN0IHZlY3RvcnM"
	signature := evq.Signature{
		KeyID:     "vectorKeyId0001",
		Timestamp: fields.Timestamp,
		Nonce:     fields.Nonce,
		Value:     evq.SignV1(secret, canonical),
	}
	fmt.Println(signature.Value)
	// Output: v1=KcmEs2iNWXwx+jzsDJ4255Og0QjHaMh0VZ18HBQBsSQ=
}

func ExampleVerifier() {
	// The body of GET /.well-known/jwks.json on the evq server.
	jwks := []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"evq-vector-key",` +
		`"x":"S9VFqS0StW81FflPv5PYx3hsy5_L6sA8RUPnurVP9a0"}]}`)
	publicKeys, err := evq.ParseJWKS(jwks)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := evq.NewVerifier(publicKeys)
	if err != nil {
		log.Fatal(err)
	}
	seen, err := evq.NewDedupCache(100_000)
	if err != nil {
		log.Fatal(err)
	}

	// A message as a consumer receives it, decoded from the response.
	received := []byte(`{"queue":"orders","id":"order-42","producer":"service:billing",` +
		`"key":"customer-7","headers":{"source":"checkout","trace-id":"abc123"},"deliverAt":null,` +
		`"data":{"orderId":42,"amount":19.99,"currency":"EUR"},` +
		`"signature":{"keyId":"evq-vector-key","timestamp":1767225600,"nonce":"",` +
		`"value":"v1a=bcLkN0ssPwys/PEwAIyJjUuOxAJEStMCCQvD6z9hFJ0FvUt5XR+KHAvIaT2b5Ug+RHESBfdhRuhR3VpCm1o9Bg=="}}`)
	var message evq.Message
	if err := json.Unmarshal(received, &message); err != nil {
		log.Fatal(err)
	}

	if err := verifier.Verify(message); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	if seen.Seen(message.ID) {
		fmt.Println("duplicate")
		return
	}
	fmt.Println("verified", message.ID)
	// Output: verified order-42
}

func ExampleSignV1a() {
	// A producer that registered an Ed25519 public key with
	// registerSigningKey signs with the private key. The seed here is fixed
	// only so that the output is stable.
	privateKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	canonical, err := evq.CanonicalString(evq.Fields{Queue: "orders", ID: "order-43", Timestamp: 1767225600, Nonce: "n-0002", Data: json.RawMessage(`null`)})
	if err != nil {
		log.Fatal(err)
	}

	value := evq.SignV1a(privateKey, canonical)
	fmt.Println(evq.VerifyV1a(privateKey.Public().(ed25519.PublicKey), canonical, value))
	fmt.Println(len(value) == len("v1a=")+base64.StdEncoding.EncodedLen(ed25519.SignatureSize))
	// Output:
	// true
	// true
}
