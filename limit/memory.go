package limit

import (
	"cmp"
	"context"
	"errors"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryOptions configure a Memory limiter. The zero value is ready to use.
type MemoryOptions struct {
	// Clock returns the current time; nil means time.Now. Tests pass a
	// fake clock.
	Clock func() time.Time
	// LeaseTTL is how long a concurrency slot stays held when Finish is
	// never called; 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Shards is the number of independently locked partitions of the
	// state (by subject), rounded up to a power of two; 0 means 64 and 1
	// means a single mutex.
	Shards int
}

const (
	defaultShards = 64
	maxShards     = 1 << 12
	// sweepEvery is how often (by the limiter's clock) a shard drops the
	// entries of subjects that have been idle for longer than their
	// window.
	sweepEvery = 30 * time.Second
	// rebuildMin is the size below which a shard's map is never rebuilt to
	// return memory after a wave of evictions.
	rebuildMin = 1024
	// stackChecks is how many checks Admit and Finish handle without
	// allocating.
	stackChecks = 8
)

// Memory is a Limiter for one process. It is safe for concurrent use.
//
// State is partitioned by subject into shards, each behind its own mutex;
// an Admit locks the shards of its subjects in index order, so the checks
// of one call are evaluated and charged atomically. Subjects idle for
// longer than their window (a minute after a rate's bucket is full again,
// when the last concurrency lease is gone, after a budget's day) are
// dropped, so the state does not grow with the number of clients seen.
type Memory struct {
	clock    func() time.Time
	leaseTTL int64
	seed     maphash.Seed
	mask     uint32
	shards   []shard
	lastID   atomic.Uint64
	tickets  ticketCache
}

var _ Limiter = (*Memory)(nil)

type shard struct {
	mu sync.Mutex
	m  map[string]*entry // by subject
	// peak is the most entries m has held since it was last rebuilt.
	peak      int
	nextSweep int64
	_         [96]byte // keep neighbouring shards' locks off one cache line
}

// entry is the state of one subject, for every kind of check.
type entry struct {
	// tat is the GCRA theoretical arrival time of Requests ([0]) and
	// Tokens ([1]), in Unix nanoseconds.
	tat [2]int64
	// leases are the held concurrency slots (Concurrent), ordered by id.
	leases []lease
	// spent is the USD spent on day (Budget), a count of UTC days since
	// the Unix epoch.
	spent float64
	day   int64
}

type lease struct {
	id  uint64
	exp int64 // Unix nanoseconds
}

// slot is one check of an Admit or Finish call being evaluated.
type slot struct {
	check int    // index in the caller's checks
	shard uint32 // index in Memory.shards
	first int    // index of the first slot with this subject (maybe this one)
	e     *entry // nil when the subject has no state yet
	tat   int64  // tentative TAT (rates)
	dup   bool   // an earlier check of this call has the same kind and subject
}

// rate is the index in entry.tat of a rate kind.
func rate(k Kind) int { return int(k - Requests) }

// NewMemory returns an in-process limiter.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{
		clock:    opts.Clock,
		leaseTTL: int64(opts.LeaseTTL),
		seed:     maphash.MakeSeed(),
	}
	if m.clock == nil {
		m.clock = time.Now
	}
	if m.leaseTTL <= 0 {
		m.leaseTTL = int64(DefaultLeaseTTL)
	}
	n := opts.Shards
	if n <= 0 {
		n = defaultShards
	}
	size := 1
	for size < n && size < maxShards {
		size <<= 1
	}
	m.shards = make([]shard, size)
	m.mask = uint32(size - 1)
	for i := range m.shards {
		m.shards[i].m = make(map[string]*entry)
	}
	return m
}

// Admit evaluates checks atomically; see Limiter. It never blocks on
// anything but its own locks.
func (m *Memory) Admit(_ context.Context, checks []Check) (Result, error) {
	if err := validate(checks); err != nil {
		return Result{}, err
	}
	var sbuf [stackChecks]slot
	slots := sbuf[:0]
	for i := range checks {
		if checks[i].Limit > 0 {
			slots = m.addSlot(slots, checks, i)
		}
	}
	if len(slots) == 0 {
		return Result{Allowed: true}, nil
	}
	var lbuf [stackChecks]uint32
	locks := lockOrder(lbuf[:0], slots)
	m.lock(locks)
	now := m.clock().UnixNano()

	denied, retry := -1, time.Duration(0)
	conc := false
	for i := range slots {
		s := &slots[i]
		c := &checks[s.check]
		prior := priorSlot(slots[:i], checks, c)
		s.dup = prior != nil
		if s.first < i {
			s.e = slots[s.first].e
		} else {
			s.e = m.shards[s.shard].m[c.Subject]
		}
		switch c.Kind {
		case Requests, Tokens:
			var tat int64
			switch {
			case prior != nil:
				tat = prior.tat
			case s.e != nil:
				tat = s.e.tat[rate(c.Kind)]
			}
			tat = max(tat, now)
			n := cost(c)
			if n > c.Limit {
				denied, retry = i, Never
				break
			}
			tat += rateStep(n, c.Limit)
			if d := tat - now - int64(window); d > 0 {
				denied, retry = i, time.Duration(d)
				break
			}
			s.tat = tat
		case Concurrent:
			conc = true
			held := 0
			if s.e != nil {
				if prior == nil {
					s.e.purge(now)
				}
				held = len(s.e.leases)
			}
			if float64(held+1) > c.Limit {
				denied, retry = i, concurrencyRetry
			}
		case Budget:
			if s.e != nil && s.e.day == dayOf(now) && s.e.spent >= c.Limit {
				denied, retry = i, time.Duration(nextDay(now)-now)
			}
		}
		if denied >= 0 {
			break
		}
	}

	var id uint64
	if denied < 0 {
		if conc {
			// Drawn under the shard locks, so each subject's leases are
			// appended in id order.
			id = m.lastID.Add(1)
		}
		for i := range slots {
			m.charge(&slots[i], &checks[slots[i].check], now, id)
		}
	}
	for _, k := range locks {
		if sh := &m.shards[k]; now >= sh.nextSweep {
			sh.sweep(now)
		}
	}
	m.unlock(locks)

	if denied >= 0 {
		return Result{Denied: checks[slots[denied].check], RetryAfter: retry}, nil
	}
	r := Result{Allowed: true}
	if id != 0 {
		r.Ticket = m.tickets.get(id)
	}
	return r, nil
}

// charge applies an admitted slot. The caller holds its shard's lock.
func (m *Memory) charge(s *slot, c *Check, now int64, id uint64) {
	if c.Kind == Budget {
		return // Admit only reads the budget; Finish charges it.
	}
	if s.e == nil {
		// An earlier check on the subject may have created it.
		s.e = m.shards[s.shard].get(c.Subject)
	}
	switch c.Kind {
	case Requests, Tokens:
		s.e.tat[rate(c.Kind)] = s.tat
	case Concurrent:
		if !s.dup {
			s.e.leases = append(s.e.leases, lease{id: id, exp: now + m.leaseTTL})
		}
	}
}

// Finish releases the ticket's concurrency slots and charges usage; see
// Limiter. Releasing is idempotent: a second Finish with the same ticket
// releases nothing (but charges its usage again). A Concurrent check is
// released whatever its Limit, so a limit lowered to 0 between Admit and
// Finish does not strand the slot.
func (m *Memory) Finish(_ context.Context, checks []Check, ticket string, u Usage) error {
	if err := validate(checks); err != nil {
		return err
	}
	if err := validateUsage(u); err != nil {
		return err
	}
	id, err := parseTicket(ticket)
	if err != nil {
		return err
	}
	var sbuf [stackChecks]slot
	slots := sbuf[:0]
	for i := range checks {
		c := &checks[i]
		switch {
		case c.Kind == Concurrent && id != 0,
			c.Kind == Tokens && c.Limit > 0 && u.ExtraTokens != 0,
			c.Kind == Budget && c.Limit > 0 && u.CostUSD > 0:
			slots = m.addSlot(slots, checks, i)
		}
	}
	if len(slots) == 0 {
		return nil
	}
	var lbuf [stackChecks]uint32
	locks := lockOrder(lbuf[:0], slots)
	m.lock(locks)
	now := m.clock().UnixNano()
	for i := range slots {
		c := &checks[slots[i].check]
		sh := &m.shards[slots[i].shard]
		k := c.Subject
		switch c.Kind {
		case Concurrent:
			if e := sh.m[k]; e != nil {
				e.release(id)
			}
		case Tokens:
			step := rateStep(u.ExtraTokens, c.Limit)
			if step > 0 {
				e := sh.get(k)
				e.tat[1] = min(max(e.tat[1], now)+step, now+int64(maxDebt))
			} else if e := sh.m[k]; e != nil {
				// A refund never moves the bucket past full.
				e.tat[1] = max(e.tat[1]+step, now)
			}
		case Budget:
			e := sh.get(k)
			if d := dayOf(now); e.day != d {
				e.day, e.spent = d, 0
			}
			e.spent += u.CostUSD
		}
	}
	m.unlock(locks)
	return nil
}

// Close releases nothing; Memory holds no external resources.
func (m *Memory) Close() error { return nil }

// addSlot appends a slot for checks[i], reusing the shard of an earlier
// check on the same subject to avoid hashing it again.
func (m *Memory) addSlot(slots []slot, checks []Check, i int) []slot {
	subject := checks[i].Subject
	for j := range slots {
		if checks[slots[j].check].Subject == subject {
			return append(slots, slot{check: i, shard: slots[j].shard, first: j})
		}
	}
	var sh uint32
	if m.mask != 0 {
		sh = uint32(maphash.String(m.seed, subject)) & m.mask
	}
	return append(slots, slot{check: i, shard: sh, first: len(slots)})
}

// priorSlot returns the earlier slot with c's kind and subject, if any.
func priorSlot(slots []slot, checks []Check, c *Check) *slot {
	for j := len(slots) - 1; j >= 0; j-- {
		p := &checks[slots[j].check]
		if p.Kind == c.Kind && p.Subject == c.Subject {
			return &slots[j]
		}
	}
	return nil
}

// lockOrder returns the distinct shards of slots in ascending order, the
// order every caller locks them in.
func lockOrder(dst []uint32, slots []slot) []uint32 {
	for i := range slots {
		k := slots[i].shard
		j, found := slices.BinarySearch(dst, k)
		if !found {
			dst = slices.Insert(dst, j, k)
		}
	}
	return dst
}

func (m *Memory) lock(shards []uint32) {
	for _, k := range shards {
		m.shards[k].mu.Lock()
	}
}

func (m *Memory) unlock(shards []uint32) {
	for i := len(shards) - 1; i >= 0; i-- {
		m.shards[shards[i]].mu.Unlock()
	}
}

// get returns k's entry, creating it. The caller holds the lock.
func (sh *shard) get(k string) *entry {
	e := sh.m[k]
	if e == nil {
		e = new(entry)
		sh.m[k] = e
		sh.peak = max(sh.peak, len(sh.m))
	}
	return e
}

// sweep drops the subjects that carry no state any more: rate buckets
// full, no live concurrency lease, no budget spent today. When the map has
// shrunk to a quarter of its peak it is rebuilt, since Go maps do not give
// memory back on delete. The caller holds the lock.
func (sh *shard) sweep(now int64) {
	today := dayOf(now)
	for k, e := range sh.m {
		e.purge(now)
		if e.tat[0] <= now && e.tat[1] <= now && len(e.leases) == 0 && e.day < today {
			delete(sh.m, k)
		}
	}
	if n := len(sh.m); sh.peak >= rebuildMin && n*4 < sh.peak {
		m := make(map[string]*entry, n)
		for k, e := range sh.m {
			m[k] = e
		}
		sh.m, sh.peak = m, n
	}
	sh.nextSweep = now + int64(sweepEvery)
}

// purge drops expired leases. Leases are appended in time order, so the
// expired ones are at the front.
func (e *entry) purge(now int64) {
	k := 0
	for k < len(e.leases) && e.leases[k].exp <= now {
		k++
	}
	if k > 0 {
		n := copy(e.leases, e.leases[k:])
		e.leases = e.leases[:n]
	}
}

// release drops the lease with id, if it is still held.
func (e *entry) release(id uint64) {
	i, found := slices.BinarySearchFunc(e.leases, id, func(l lease, id uint64) int {
		return cmp.Compare(l.id, id)
	})
	if found {
		e.leases = slices.Delete(e.leases, i, i+1)
	}
}

// entries reports how many entries m holds (for tests).
func (m *Memory) entries() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// dayOf is the UTC day of t (Unix nanoseconds).
func dayOf(t int64) int64 {
	d := t / int64(day)
	if t < 0 && t%int64(day) != 0 {
		d--
	}
	return d
}

// nextDay is the next UTC midnight after t, in Unix nanoseconds.
func nextDay(t int64) int64 { return (dayOf(t) + 1) * int64(day) }

// Tickets are the lease id as 16 lowercase hex digits. They are cut from
// a shared string of ticketBatch consecutive ids, so issuing one costs no
// allocation in the steady state.
const (
	ticketLen   = 16
	ticketBatch = 256
)

var errTicket = errors.New("limit: malformed ticket: want the Ticket of a Result from this limiter")

// ticketCache holds the current batch of tickets.
type ticketCache struct {
	cur atomic.Pointer[ticketBatchOf]
}

type ticketBatchOf struct {
	base uint64 // first id
	s    string // ticketBatch tickets, ticketLen bytes each
}

func (c *ticketCache) get(id uint64) string {
	base := id &^ (ticketBatch - 1)
	b := c.cur.Load()
	if b == nil || base > b.base {
		var buf [ticketBatch * ticketLen]byte
		for i := range ticketBatch {
			putHex(buf[i*ticketLen:(i+1)*ticketLen], base+uint64(i))
		}
		nb := &ticketBatchOf{base: base, s: string(buf[:])}
		c.cur.CompareAndSwap(b, nb) // on failure another caller moved on
		b = nb
	}
	if base == b.base {
		off := (id - base) * ticketLen
		return b.s[off : off+ticketLen]
	}
	// A straggler from a batch already replaced.
	var buf [ticketLen]byte
	putHex(buf[:], id)
	return string(buf[:])
}

func putHex(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := ticketLen - 1; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

// parseTicket returns the lease id of a ticket; "" is id 0 (no lease).
func parseTicket(t string) (uint64, error) {
	if t == "" {
		return 0, nil
	}
	if len(t) != ticketLen {
		return 0, errTicket
	}
	var v uint64
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, errTicket
		}
		v = v<<4 | uint64(c)
	}
	return v, nil
}
