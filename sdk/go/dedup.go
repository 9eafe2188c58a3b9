package evq

import (
	"container/list"
	"fmt"
	"sync"
)

// DedupCache stores the ids of the most recently seen messages, up to a
// maximum count, so that a consumer can skip a message that evq delivers
// again. It evicts the least recently seen id when full, so an id counts as
// new again once maxSize other ids have been seen after it. It compares ids
// only, so a consumer of several queues needs one cache per queue. It is safe
// for concurrent use.
type DedupCache struct {
	mu      sync.Mutex
	maxSize int
	// order lists the ids from most to least recently seen.
	order    *list.List
	elements map[string]*list.Element
}

// NewDedupCache returns an empty cache that stores at most maxSize ids. It
// returns an error when maxSize is less than 1.
func NewDedupCache(maxSize int) (*DedupCache, error) {
	if maxSize < 1 {
		return nil, fmt.Errorf("evq: invalid dedup cache size %d: it must be at least 1", maxSize)
	}
	return &DedupCache{
		maxSize:  maxSize,
		order:    list.New(),
		elements: make(map[string]*list.Element, maxSize),
	}, nil
}

// Seen records id as the most recently seen and reports whether the cache
// already contained it.
func (c *DedupCache) Seen(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	if element, found := c.elements[id]; found {
		c.order.MoveToFront(element)
		return true
	}

	c.elements[id] = c.order.PushFront(id)
	if c.order.Len() > c.maxSize {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.elements, oldest.Value.(string))
	}
	return false
}

// Len returns the number of ids in the cache.
func (c *DedupCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
