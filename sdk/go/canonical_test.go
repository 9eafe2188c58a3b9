package evq

import (
	"errors"
	"strings"
	"testing"
	"time"
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

// storageLines returns the four lines that StorageCanonicalString adds after
// the canonical string.
func storageLines(t *testing.T, stored StoredFields) []string {
	t.Helper()

	fields := Fields{Queue: "q", ID: "m", Timestamp: 1, Data: []byte("null")}
	storage, err := StorageCanonicalString(fields, stored)
	if err != nil {
		t.Fatalf("StorageCanonicalString: %v", err)
	}
	lines := strings.Split(storage, "\n")
	if len(lines) != 10 {
		t.Fatalf("StorageCanonicalString = %q has %d lines, want 10", storage, len(lines))
	}
	return lines[6:]
}

func TestStorageCanonicalStringEmptyMessage(t *testing.T) {
	lines := storageLines(t, StoredFields{})

	// 44136fa3… is the SHA-256 of "{}".
	want := []string{"", "", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", ""}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", 7+i, lines[i], want[i])
		}
	}
}

func TestStorageCanonicalStringEmptyDiffersFromNull(t *testing.T) {
	empty := ""
	epoch := int64(0)
	lines := storageLines(t, StoredFields{Producer: &empty, Key: &empty, DeliverAt: &epoch})

	if lines[0] != `""` {
		t.Errorf("producer line = %q, want %q", lines[0], `""`)
	}
	if lines[1] != `""` {
		t.Errorf("key line = %q, want %q", lines[1], `""`)
	}
	if lines[3] != "0" {
		t.Errorf("deliverAt line = %q, want %q", lines[3], "0")
	}
}

func TestStorageCanonicalStringEscapesLineFeeds(t *testing.T) {
	producer := "user:a\nb"
	key := "k\n\"x\""
	lines := storageLines(t, StoredFields{Producer: &producer, Key: &key})

	if lines[0] != `"user:a\nb"` {
		t.Errorf("producer line = %q, want %q", lines[0], `"user:a\nb"`)
	}
	if lines[1] != `"k\n\"x\""` {
		t.Errorf("key line = %q, want %q", lines[1], `"k\n\"x\""`)
	}
}

func TestStorageCanonicalStringNegativeDeliverAt(t *testing.T) {
	beforeEpoch := int64(-1500)
	lines := storageLines(t, StoredFields{DeliverAt: &beforeEpoch})

	if lines[3] != "-1500" {
		t.Errorf("deliverAt line = %q, want %q", lines[3], "-1500")
	}
}

func TestStorageCanonicalStringHeaders(t *testing.T) {
	none := storageLines(t, StoredFields{})[2]
	empty := storageLines(t, StoredFields{Headers: map[string]string{}})[2]
	evqOnly := storageLines(t, StoredFields{Headers: map[string]string{"evq-delivery-count": "2"}})[2]
	upperCase := storageLines(t, StoredFields{Headers: map[string]string{"EVQ-x": "1"}})[2]

	if empty != none {
		t.Errorf("digest of empty headers = %s, want the digest of nil headers %s", empty, none)
	}
	if evqOnly != none {
		t.Errorf("digest of only an evq- header = %s, want the digest of nil headers %s", evqOnly, none)
	}
	// evq leaves out exactly the names that start with lowercase "evq-", the
	// prefix of the headers it adds.
	if upperCase == none {
		t.Error("digest of the header EVQ-x equals the digest of no headers")
	}
}

func TestStorageCanonicalStringRejectsInvalidUTF8(t *testing.T) {
	invalid := "a\xffb"
	tests := []struct {
		name   string
		stored StoredFields
	}{
		{"producer", StoredFields{Producer: &invalid}},
		{"key", StoredFields{Key: &invalid}},
		{"header name", StoredFields{Headers: map[string]string{invalid: "v"}}},
		{"header value", StoredFields{Headers: map[string]string{"name": invalid}}},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fields := Fields{Queue: "q", ID: "m", Timestamp: 1, Data: []byte("null")}
			_, err := StorageCanonicalString(fields, test.stored)
			if !errors.Is(err, ErrInvalidJSON) {
				t.Errorf("StorageCanonicalString error = %v, want ErrInvalidJSON", err)
			}
		})
	}
}

func TestMessageStoredFieldsDeliverAt(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"UTC", time.Date(2026, time.January, 1, 1, 0, 0, 0, time.UTC), 1767229200000},
		{"offset", time.Date(2026, time.January, 1, 2, 0, 0, 0, time.FixedZone("", 3600)), 1767229200000},
		{"milliseconds", time.Date(2026, time.January, 1, 1, 0, 0, 999_000_000, time.UTC), 1767229200999},
		{"below a millisecond", time.Date(2026, time.January, 1, 1, 0, 0, 1_999_999, time.UTC), 1767229200001},
		{"epoch", time.Unix(0, 0), 0},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			message := Message{DeliverAt: &test.at}
			stored := message.StoredFields()
			if stored.DeliverAt == nil {
				t.Fatal("StoredFields().DeliverAt = nil")
			}
			if *stored.DeliverAt != test.want {
				t.Errorf("StoredFields().DeliverAt = %d, want %d", *stored.DeliverAt, test.want)
			}
		})
	}

	if stored := (Message{}).StoredFields(); stored.DeliverAt != nil {
		t.Errorf("StoredFields().DeliverAt of a message without deliverAt = %d, want nil", *stored.DeliverAt)
	}
}
