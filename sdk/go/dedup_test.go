package evq

import (
	"strconv"
	"sync"
	"testing"
)

func newTestDedupCache(t *testing.T, maxSize int) *DedupCache {
	t.Helper()

	cache, err := NewDedupCache(maxSize)
	if err != nil {
		t.Fatalf("NewDedupCache(%d): %v", maxSize, err)
	}
	return cache
}

func TestDedupCacheSeenTwice(t *testing.T) {
	cache := newTestDedupCache(t, 10)

	if cache.Seen("a") {
		t.Error("Seen(a) = true on first sight")
	}
	if !cache.Seen("a") {
		t.Error("Seen(a) = false on second sight")
	}
	if cache.Seen("b") {
		t.Error("Seen(b) = true on first sight")
	}
}

func TestDedupCacheEvictsLeastRecent(t *testing.T) {
	cache := newTestDedupCache(t, 2)
	cache.Seen("a")
	cache.Seen("b")
	cache.Seen("c") // evicts a

	if got := cache.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	if !cache.Seen("c") {
		t.Error("Seen(c) = false, want true")
	}
	if !cache.Seen("b") {
		t.Error("Seen(b) = false, want true")
	}
	if cache.Seen("a") {
		t.Error("Seen(a) = true after eviction")
	}
}

func TestDedupCacheSeenRefreshesRecency(t *testing.T) {
	cache := newTestDedupCache(t, 2)
	cache.Seen("a")
	cache.Seen("b")
	cache.Seen("a") // a is now the most recent, so c evicts b
	cache.Seen("c")

	if !cache.Seen("a") {
		t.Error("Seen(a) = false, want true")
	}
	if cache.Seen("b") {
		t.Error("Seen(b) = true, want it evicted")
	}
}

func TestDedupCacheRejectsSizeBelowOne(t *testing.T) {
	for _, size := range []int{0, -1} {
		if _, err := NewDedupCache(size); err == nil {
			t.Errorf("NewDedupCache(%d) returned no error", size)
		}
	}
}

func TestDedupCacheConcurrentSeen(t *testing.T) {
	const workers = 8
	const ids = 1000
	cache := newTestDedupCache(t, ids)

	// Every worker offers every id once, so exactly one call per id finds
	// it new.
	var mu sync.Mutex
	newCount := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				if !cache.Seen(strconv.Itoa(i)) {
					mu.Lock()
					newCount++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()

	if newCount != ids {
		t.Errorf("%d calls found an id new, want %d", newCount, ids)
	}
	if got := cache.Len(); got != ids {
		t.Errorf("Len = %d, want %d", got, ids)
	}
}
