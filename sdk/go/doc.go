// Package evq signs and verifies evq message signatures.
//
// A signature covers a canonical string of six lines joined by "\n". They
// contain the format version ("evq-v1"), the queue name, the message id, the
// Unix timestamp in seconds and a nonce. The last line is the lowercase hex
// SHA-256 of the RFC 8785 (JCS) serialization of the message data.
// [CanonicalString] builds it.
//
// Producers sign what they publish with a queue key's secret ([SignV1],
// HMAC-SHA256) or with a registered Ed25519 key ([SignV1a]). evq signs every
// message it stores with its own Ed25519 key, and consumers check that
// signature with a [Verifier] built from the keys that evq publishes at
// /.well-known/jwks.json ([ParseJWKS]). A v1a storage signature covers the
// message's [StorageCanonicalString]. A v1m storage signature covers the
// root of an RFC 6962 Merkle tree of the messages that evq stored together,
// and each message carries its audit path to that root ([LeafHash],
// [RootFromPath]).
//
// The byte-level format is described in docs/signatures.md of the evq
// repository, and the tests of this package reproduce the shared vectors in
// sdk/vectors/signatures.json byte for byte.
package evq
