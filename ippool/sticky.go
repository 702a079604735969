package ippool

import "container/list"

// stickyLRU remembers the last address of each user, bounded: when full the
// user seen longest ago is forgotten.
type stickyLRU struct {
	max   int
	order *list.List // of *stickyEntry, front = most recent
	index map[string]*list.Element
}

type stickyEntry struct {
	user string
	addr uint32
}

func newStickyLRU(max int) *stickyLRU {
	return &stickyLRU{max: max, order: list.New(), index: make(map[string]*list.Element)}
}

func (c *stickyLRU) get(user string) (uint32, bool) {
	e, ok := c.index[user]
	if !ok {
		return 0, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*stickyEntry).addr, true
}

func (c *stickyLRU) put(user string, addr uint32) {
	if e, ok := c.index[user]; ok {
		e.Value.(*stickyEntry).addr = addr
		c.order.MoveToFront(e)
		return
	}
	c.index[user] = c.order.PushFront(&stickyEntry{user: user, addr: addr})
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*stickyEntry)
		delete(c.index, old.user)
	}
}

func (c *stickyLRU) len() int {
	if c == nil {
		return 0
	}
	return c.order.Len()
}

// each visits entries from least to most recently used, so that replaying
// them through put rebuilds the same order.
func (c *stickyLRU) each(f func(user string, addr uint32)) {
	for e := c.order.Back(); e != nil; e = e.Prev() {
		s := e.Value.(*stickyEntry)
		f(s.user, s.addr)
	}
}
