package evq

import (
	"errors"
	"testing"
)

func TestCanonicalStringRejectsNegativeTimestamp(t *testing.T) {
	fields := Fields{Queue: "q", ID: "m", Timestamp: -1, Data: []byte("null")}

	if _, err := CanonicalString(fields); err == nil {
		t.Error("CanonicalString accepted a negative timestamp")
	}
	if _, err := StorageCanonicalString(fields, StoredFields{}); err == nil {
		t.Error("StorageCanonicalString accepted a negative timestamp")
	}
}

func TestCanonicalStringRejectsInvalidData(t *testing.T) {
	fields := Fields{Queue: "q", ID: "m", Timestamp: 1, Data: []byte(`{"a":`)}

	_, err := CanonicalString(fields)
	if !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("CanonicalString error = %v, want ErrInvalidJSON", err)
	}
}

func TestCanonicalStringIgnoresDataFormatting(t *testing.T) {
	compact := Fields{Queue: "q", ID: "m", Timestamp: 1, Nonce: "n", Data: []byte(`{"a":1,"b":[1e2]}`)}
	spaced := compact
	spaced.Data = []byte("{ \"b\" : [ 100.0 ] ,\n \"a\" : 1 }")

	want, err := CanonicalString(compact)
	if err != nil {
		t.Fatalf("CanonicalString(compact): %v", err)
	}
	got, err := CanonicalString(spaced)
	if err != nil {
		t.Fatalf("CanonicalString(spaced): %v", err)
	}
	if got != want {
		t.Errorf("CanonicalString(spaced) = %q, want %q", got, want)
	}
}
