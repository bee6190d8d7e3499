package shimtunnel

import (
	"container/list"
	"sync"
)

// lru is a byte-budgeted least-recently-used cache of batch contents keyed by CID string.
type lru struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front = most recently used; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key  string
	data []byte
}

func newLRU(maxBytes int64) *lru {
	return &lru{max: maxBytes, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the cached content of key and marks it recently used.
func (c *lru) get(key string) ([]byte, bool) {
	if c == nil || c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry).data, true
}

// put stores data under key, evicting the least recently used entries to stay within the budget. Content larger
// than the whole budget is not cached.
func (c *lru) put(key string, data []byte) {
	if c == nil || c.max <= 0 || int64(len(data)) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, data: data})
	c.size += int64(len(data))
	for c.size > c.max {
		last := c.order.Back()
		e := last.Value.(*lruEntry)
		c.order.Remove(last)
		delete(c.items, e.key)
		c.size -= int64(len(e.data))
	}
}

// stats returns the number of entries and their total size.
func (c *lru) stats() (entries int, bytes int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.size
}
