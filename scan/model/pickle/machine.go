package pickle

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/rampartsec/rampart/finding"
)

// The opcodes of protocols 0 to 5 (pickletools' names).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadOnlyBuffer = 0x98
)

// kind is the type of a symbolic value.
type kind uint8

const (
	kAbsent       kind = iota // an unset memo slot
	kNone                     // None
	kBool                     // True, False
	kInt                      // i holds the value when it fits
	kFloat                    // a float
	kStr                      // ref: offset in strs, or -1 when not kept; n: length
	kBytes                    // bytes, bytearray (never kept)
	kTuple                    // ref: start in vals, or -1 when not kept; n: length
	kList                     // ref: object
	kDict                     // ref: object
	kSet                      // ref: object
	kFrozenSet                // a frozenset
	kGlobal                   // ref: index in Result.Globals
	kModule                   // ref: index in Result.Globals (Name "")
	kObject                   // ref: object made by a call
	kPersistent               // a persistent id's object
	kBuffer                   // an out-of-band buffer
	kExt                      // an extension code (intValue)
	kUnresolved               // a global whose name is not known
	kAttrGetter               // ref, n: tuple of attribute names in vals
	kMethodCaller             // ref: index in vals of the method name
	kPartial                  // ref: index in vals of the wrapped callable
	kAttr                     // an attribute of something unknown
	numKinds
)

var kindNames = [numKinds]string{"absent", "None", "bool", "int", "float", "str", "bytes", "tuple", "list",
	"dict", "set", "frozenset", "global", "module", "object", "persistent id", "buffer", "extension",
	"unresolved global", "attrgetter", "methodcaller", "partial", "attribute"}

// value is a symbolic value: what the machine knows about one Python
// object on the stack or in the memo.
type value struct {
	k   kind
	ref int32
	n   int32
}

// intValue makes a value of kind k (kInt, kBool, kExt) holding i in ref
// and n.
func intValue(k kind, i int64) value {
	return value{k: k, ref: int32(i >> 32), n: int32(uint32(i))}
}

// int returns the integer an intValue holds.
func (v value) int() int64 { return int64(v.ref)<<32 | int64(uint32(v.n)) }

// objKind says what an object made by a call is known to be.
type objKind uint8

const (
	oPlain   objKind = iota
	oDtype           // numpy.dtype
	oWrapper         // joblib NumpyArrayWrapper
)

// object is a mutable Python object (dict, list, set, instance). Most
// objects need nothing more; the few that do (dicts with string keys,
// dtypes) get an extra.
type object struct {
	callee int32 // the global that made it, -1 if none
	x      int32 // index of its extra in state.extras, -1 if none
	kind   objKind
}

// extra holds what is known about an object beyond its maker.
type extra struct {
	entries []entry // string-keyed entries, at most MaxKeep
	special string  // the first special (dunder) key set on it
	// dtype facts
	itemsize   int64
	structured bool
	hasObject  bool
}

type entry struct {
	key string
	val value
}

// state is the per-pickle part of the machine: every pickle (and every
// nested pickle) starts with an empty stack and memo.
type state struct {
	stack   []value
	fence   int     // index of the first stack item above the last MARK
	marks   []int32 // MARK positions
	memo    []value // dense memo, indexed by key
	sparse  map[uint64]value
	memoLen int // distinct keys, for MEMOIZE
	vals    []value
	strs    []byte
	objs    []object
	extras  []extra
}

func (s *state) reset() {
	s.stack = s.stack[:0]
	s.fence = 0
	s.marks = s.marks[:0]
	clear(s.memo)
	s.memo = s.memo[:0]
	s.sparse = nil
	s.memoLen = 0
	s.vals = s.vals[:0]
	s.strs = s.strs[:0]
	clear(s.objs)
	s.objs = s.objs[:0]
	clear(s.extras)
	s.extras = s.extras[:0]
}

// status is how one pickle's run ended.
type status int

const (
	stStop  status = iota // STOP reached
	stFail                // invalid or truncated (failOff, failMsg)
	stLimit               // a limit was hit (reported)
	stAbort               // analysis cannot go on (reported)
)

// machine is the symbolic pickle interpreter.
type machine struct {
	in    *input
	lim   Limits
	allow map[string]bool
	res   *Result
	gidx  map[[2]string]int32
	gpath []string // Path of each global
	gspec []uint8  // what special models for each global
	st    *state
	prev  *state // the previous top-level pickle's state
	outer *state // the pickle whose joblib array bytes are being probed
	spare []*state
	depth int
	probe bool // probing array bytes: failures are not reported
	ops   int64
	calls int
	proto int
	// arrays counts the joblib arrays skipped
	arrays int
	// crossMemo is set once a pickle read the previous pickle's memo
	crossMemo bool
	// the last failure
	failOff int64
	failMsg string
	failOp  string
}

// statePool recycles per-pickle states (stack, memo and arenas) across
// scans; buffers holds input buffers.
var (
	statePool = sync.Pool{New: func() any { return new(state) }}
	bufPool   = sync.Pool{New: func() any { b := make([]byte, inputSize); return &b }}
)

// inputSize is the input buffer size: it bounds the longest line and
// kept string, which Limits caps below it.
const inputSize = 64 << 10

// maxPooled is the largest state (in bytes of capacity) kept for reuse.
const maxPooled = 32 << 20

func (s *state) size() int {
	return (cap(s.stack)+cap(s.memo)+cap(s.vals))*12 + cap(s.strs) + cap(s.objs)*12 + cap(s.extras)*64 + len(s.sparse)*32
}

func newMachine(r io.Reader, lim Limits, allow []string) *machine {
	bp := bufPool.Get().(*[]byte)
	m := &machine{
		in:   &input{r: r, buf: *bp, fence: -1},
		lim:  lim,
		res:  &Result{},
		gidx: map[[2]string]int32{},
		st:   statePool.Get().(*state),
	}
	m.allow = NewPolicy(allow).allow
	return m
}

// add records a finding and returns it, or nil when MaxFindings was
// reached.
func (m *machine) add(r *finding.Rule, off int64, excerpt string, conf float64, msg string) *finding.Finding {
	if len(m.res.Findings) >= m.lim.MaxFindings {
		m.res.DroppedFindings++
		return nil
	}
	f := finding.New(r, finding.Location{Offset: off}, conf, printable(excerpt, 200))
	f.Message = printable(msg, 2000)
	f.Detector = Detector
	m.res.Findings = append(m.res.Findings, f)
	return &m.res.Findings[len(m.res.Findings)-1]
}

// printable returns s with invalid UTF-8 and control characters escaped
// (names in a pickle are arbitrary bytes, and findings are printed to
// terminals), cut to about max bytes.
func printable(s string, max int) string {
	var b strings.Builder
	for i, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sortFindings orders findings by severity (highest first), then offset.
func (m *machine) sortFindings() {
	slices.SortStableFunc(m.res.Findings, func(a, b finding.Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		return cmp.Compare(a.Location.Offset, b.Location.Offset)
	})
}

func (m *machine) fail(off int64, op byte, format string, args ...any) status {
	m.failOff = off
	m.failOp = opName(op)
	m.failMsg = opName(op) + ": " + fmt.Sprintf(format, args...)
	return stFail
}

func (m *machine) truncated(off int64, op byte) status {
	return m.fail(off, op, "input ends inside the opcode's argument")
}

func (m *machine) limitHit(off int64, what string, n int) status {
	if m.probe {
		// Probing array bytes: a limit just ends the probe.
		return stLimit
	}
	m.add(RuleLimit, off, what, 1, fmt.Sprintf("stopped at offset %d: more than %d %s; the rest of the stream was not analysed", off, n, what))
	return stLimit
}

// release returns the machine's states and buffer to their pools.
func (m *machine) release() {
	for _, s := range append(m.spare, m.st, m.prev) {
		if s == nil {
			continue
		}
		if s.size() <= maxPooled {
			s.reset()
			statePool.Put(s)
		}
	}
	b := m.in.buf
	bufPool.Put(&b)
	m.st, m.prev, m.spare, m.in.buf = nil, nil, nil, nil
}

// --- stack ---

func (m *machine) push(v value) bool {
	s := m.st
	if len(s.stack)+len(s.marks) >= m.lim.MaxStack {
		return false
	}
	s.stack = append(s.stack, v)
	return true
}

func (m *machine) pop() (value, bool) {
	s := m.st
	n := len(s.stack)
	if n <= s.fence {
		return value{}, false
	}
	v := s.stack[n-1]
	s.stack = s.stack[:n-1]
	return v, true
}

func (m *machine) top() (*value, bool) {
	s := m.st
	n := len(s.stack)
	if n <= s.fence {
		return nil, false
	}
	return &s.stack[n-1], true
}

// popMark removes the last MARK and returns the items above it; the
// slice aliases the stack and is valid until the next push.
func (m *machine) popMark() ([]value, bool) {
	s := m.st
	n := len(s.marks)
	if n == 0 {
		return nil, false
	}
	k := int(s.marks[n-1])
	s.marks = s.marks[:n-1]
	if n > 1 {
		s.fence = int(s.marks[n-2])
	} else {
		s.fence = 0
	}
	items := s.stack[k:]
	s.stack = s.stack[:k]
	return items, true
}

// --- values ---

func (m *machine) newStr(b []byte) value {
	s := m.st
	if len(b) > m.lim.MaxString || len(s.strs)+len(b) > m.lim.MaxValues {
		return value{k: kStr, ref: -1, n: int32(min(len(b), math.MaxInt32))}
	}
	off := len(s.strs)
	s.strs = append(s.strs, b...)
	return value{k: kStr, ref: int32(off), n: int32(len(b))}
}

func (m *machine) str(v value) (string, bool) {
	if v.k != kStr || v.ref < 0 {
		return "", false
	}
	return string(m.st.strs[v.ref : v.ref+v.n]), true
}

func (m *machine) newTuple(items []value) value {
	s := m.st
	if len(items) > m.lim.MaxKeep || len(s.vals)+len(items) > m.lim.MaxValues {
		return value{k: kTuple, ref: -1, n: int32(min(len(items), math.MaxInt32))}
	}
	off := len(s.vals)
	s.vals = append(s.vals, items...)
	return value{k: kTuple, ref: int32(off), n: int32(len(items))}
}

func (m *machine) items(v value) ([]value, bool) {
	if v.k != kTuple || v.ref < 0 {
		return nil, false
	}
	return m.st.vals[v.ref : v.ref+v.n], true
}

func (m *machine) keep(v value) int32 {
	s := m.st
	if len(s.vals) >= m.lim.MaxValues {
		return -1
	}
	s.vals = append(s.vals, v)
	return int32(len(s.vals) - 1)
}

func (m *machine) newObj(k kind, callee int32) (value, bool) {
	s := m.st
	if len(s.objs) >= m.lim.MaxValues {
		return value{}, false
	}
	s.objs = append(s.objs, object{callee: callee, x: -1})
	return value{k: k, ref: int32(len(s.objs) - 1)}, true
}

// obj returns the mutable object behind v, or nil.
func (m *machine) obj(v value) *object {
	switch v.k {
	case kList, kDict, kSet, kObject:
		if v.ref >= 0 {
			return &m.st.objs[v.ref]
		}
	}
	return nil
}

// setItem records key → val on the object behind d.
func (m *machine) setItem(d, key, val value) {
	o := m.obj(d)
	if o == nil || key.k != kStr || key.ref < 0 {
		return
	}
	b := m.st.strs[key.ref : key.ref+key.n]
	x := m.extra(o)
	if x.special == "" && isSpecial(b) {
		x.special = string(b)
	}
	if len(x.entries) < m.lim.MaxKeep {
		x.entries = append(x.entries, entry{string(b), val})
	}
}

// isSpecial reports whether an attribute name is a dunder that changes
// behaviour (every __x__ but a few descriptive ones).
func isSpecial(b []byte) bool {
	if len(b) < 5 || b[0] != '_' || b[1] != '_' || b[len(b)-1] != '_' || b[len(b)-2] != '_' {
		return false
	}
	return !harmlessDunders[string(b)]
}

// extra returns o's extra, making it if needed (objects are bounded by
// MaxValues, and so are extras).
func (m *machine) extra(o *object) *extra {
	s := m.st
	if o.x < 0 {
		s.extras = append(s.extras, extra{})
		o.x = int32(len(s.extras) - 1)
	}
	return &s.extras[o.x]
}

// special returns the first special key set on o, if any.
func (m *machine) specialOf(o *object) string {
	if o.x < 0 {
		return ""
	}
	return m.st.extras[o.x].special
}

func (m *machine) entry(o *object, key string) (value, bool) {
	if o.x < 0 {
		return value{}, false
	}
	for _, e := range m.st.extras[o.x].entries {
		if e.key == key {
			return e.val, true
		}
	}
	return value{}, false
}

// --- memo ---

func (m *machine) memoPut(key uint64, v value) bool {
	s := m.st
	if key < uint64(m.lim.MaxMemo) {
		if key >= uint64(len(s.memo)) {
			if key >= uint64(cap(s.memo)) {
				s.memo = slices.Grow(s.memo, int(key)+1-len(s.memo))
			}
			s.memo = s.memo[:key+1]
		}
		if s.memo[key].k == kAbsent {
			if s.memoLen >= m.lim.MaxMemo {
				return false
			}
			s.memoLen++
		}
		s.memo[key] = v
		return true
	}
	if s.sparse == nil {
		s.sparse = map[uint64]value{}
	}
	if _, ok := s.sparse[key]; !ok {
		if s.memoLen >= m.lim.MaxMemo {
			return false
		}
		s.memoLen++
	}
	s.sparse[key] = v
	return true
}

func (m *machine) memoGet(key uint64) (value, bool) {
	s := m.st
	if key < uint64(len(s.memo)) {
		v := s.memo[key]
		return v, v.k != kAbsent
	}
	v, ok := s.sparse[key]
	return v, ok
}

// memoMiss handles a GET of a key the current pickle never stored.
//
// A fresh unpickler raises there, but one reused across loads (the memo
// survives Unpickler.load) finds the previous pickle's entry, so an
// attacker can park a global's name in one pickle and use it in the
// next: the entry is carried over and the construct reported.
//
// While probing joblib array bytes, the bytes continue the outer pickle
// (for plain pickle.load), so its memo is consulted.
func (m *machine) memoMiss(key uint64, off int64) (value, bool) {
	var from *state
	switch {
	case m.probe && m.outer != nil:
		from = m.outer
	case m.depth == 0 && m.res.Pickles > 0 && m.prev != nil:
		from = m.prev
	default:
		return value{}, false
	}
	cur := m.st
	m.st = from
	v, ok := m.memoGet(key)
	m.st = cur
	if !ok {
		return value{}, false
	}
	v = m.carry(from, v)
	if !m.probe && !m.crossMemo {
		m.crossMemo = true
		m.add(RuleCrossMemo, off, fmt.Sprintf("memo %d", key), 0.8, fmt.Sprintf("pickle %d reads memo key %d at offset %d, which only the previous pickle stored: a fresh unpickler raises there, one reused across loads resolves it (the analysis goes on with the previous value)", m.res.Pickles+1, key, off))
	}
	return v, true
}

// carry translates a value of the state from into the current state:
// strings are copied, scalars and globals kept, containers and objects
// become opaque.
func (m *machine) carry(from *state, v value) value {
	switch v.k {
	case kStr:
		if v.ref >= 0 {
			return m.newStr(from.strs[v.ref : v.ref+v.n])
		}
		return v
	case kNone, kBool, kInt, kFloat, kBytes, kFrozenSet, kGlobal, kModule, kPersistent, kBuffer, kExt, kUnresolved, kAttr:
		return v
	}
	return value{k: kAttr}
}

// --- globals ---

// global records module.name reached by op at off.
func (m *machine) global(module, name, op string, off int64) (value, bool) {
	key := [2]string{module, name}
	idx, ok := m.gidx[key]
	if !ok {
		if len(m.res.Globals) >= m.lim.MaxGlobals {
			return value{}, false
		}
		v, why := judge(module, name, m.allow)
		if m.probe {
			op += " in joblib array data (run by plain pickle.load)"
		}
		idx = int32(len(m.res.Globals))
		m.gidx[key] = idx
		p := Path(module, name)
		m.gpath = append(m.gpath, p)
		m.gspec = append(m.gspec, specials[p])
		m.res.Globals = append(m.res.Globals, Global{Module: module, Name: name, Op: op, Offset: off, Verdict: v, Why: why})
	}
	m.res.Globals[idx].Refs++
	k := kGlobal
	if name == "" {
		k = kModule
	}
	return value{k: k, ref: idx}, true
}

func (m *machine) markCalled(idx int32, off int64) {
	g := &m.res.Globals[idx]
	if !g.Called {
		g.Called = true
		g.CallOffset = off
	}
	m.calls++
}

// attr resolves getattr(obj, name) to a global when obj is a global, a
// module or an instance of a global class.
func (m *machine) attr(obj value, name string, op string, off int64) (value, bool) {
	switch obj.k {
	case kGlobal:
		g := m.res.Globals[obj.ref]
		return m.global(g.Module, g.Name+"."+name, op, off)
	case kModule:
		return m.global(m.res.Globals[obj.ref].Module, name, op, off)
	case kObject:
		if o := m.obj(obj); o != nil && o.callee >= 0 {
			g := m.res.Globals[o.callee]
			return m.global(g.Module, g.Name+"."+name, op, off)
		}
	}
	return value{k: kAttr}, true
}

// --- the interpreter ---

// runPickle runs one pickle from the current input position to its STOP.
func (m *machine) runPickle(depth int, probe bool) status {
	saved, savedProbe, savedDepth, savedProto := m.st, m.probe, m.depth, m.proto
	if depth > 0 {
		if n := len(m.spare); n > 0 {
			m.st = m.spare[n-1]
			m.spare = m.spare[:n-1]
		} else {
			m.st = statePool.Get().(*state)
		}
	}
	if depth == 0 {
		// Keep the previous top-level pickle's state: a later pickle that
		// reads its memo is resolved against it (see memoMiss).
		if m.prev == nil {
			m.prev = statePool.Get().(*state)
		}
		m.st, m.prev = m.prev, m.st
	}
	m.st.reset()
	if probe && m.outer != nil {
		// The probed bytes continue the outer pickle: start from its
		// stack and marks.
		o := m.outer
		for _, v := range o.stack {
			m.st.stack = append(m.st.stack, m.carry(o, v))
		}
		m.st.marks = append(m.st.marks, o.marks...)
		m.st.fence = o.fence
	}
	m.probe, m.depth = probe, depth
	m.proto = 0
	st := m.loop()
	if depth > 0 {
		m.spare = append(m.spare, m.st)
		m.st = saved
		m.proto = savedProto
	}
	m.probe, m.depth = savedProbe, savedDepth
	return st
}

func (m *machine) loop() status {
	in := m.in
	lim := &m.lim
	for {
		if m.ops++; m.ops > lim.MaxOps {
			return m.limitHit(in.offset(), "opcodes", int(min(lim.MaxOps, math.MaxInt)))
		}
		if in.pos >= in.lim && !in.fill(1) {
			m.failOff, m.failOp, m.failMsg = in.offset(), "STOP", "input ends before STOP"
			return stFail
		}
		off := in.offset()
		op := in.buf[in.pos]
		in.pos++
		var v value
		switch op {
		case opMark:
			s := m.st
			if len(s.stack)+len(s.marks) >= lim.MaxStack {
				return m.limitHit(off, "stack entries", lim.MaxStack)
			}
			s.marks = append(s.marks, int32(len(s.stack)))
			s.fence = len(s.stack)
			continue
		case opStop:
			if _, ok := m.pop(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			return stStop
		case opPop:
			s := m.st
			if n := len(s.marks); n > 0 && int(s.marks[n-1]) == len(s.stack) {
				m.popMark()
			} else if _, ok := m.pop(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			continue
		case opPopMark:
			if _, ok := m.popMark(); !ok {
				return m.fail(off, op, "no MARK")
			}
			continue
		case opDup:
			t, ok := m.top()
			if !ok {
				return m.fail(off, op, "stack underflow")
			}
			v = *t
		case opFloat:
			if _, _, ok := in.line(lim.MaxLine); !ok {
				return m.truncated(off, op)
			}
			v = value{k: kFloat}
		case opInt:
			b, long, ok := in.line(lim.MaxLine)
			if !ok {
				return m.truncated(off, op)
			}
			switch {
			case long:
				v = value{k: kInt}
			case string(b) == "00" || string(b) == "01":
				v = intValue(kBool, int64(b[1]-'0'))
			default:
				n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
				v = intValue(kInt, n)
			}
		case opLong:
			b, long, ok := in.line(lim.MaxLine)
			if !ok {
				return m.truncated(off, op)
			}
			v = value{k: kInt}
			if !long {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(b)), "L"), 10, 64)
				v = intValue(kInt, n)
			}
		case opBinInt:
			b, ok := in.next(4)
			if !ok {
				return m.truncated(off, op)
			}
			v = intValue(kInt, int64(int32(binary.LittleEndian.Uint32(b))))
		case opBinInt1:
			b, ok := in.next(1)
			if !ok {
				return m.truncated(off, op)
			}
			v = intValue(kInt, int64(b[0]))
		case opBinInt2:
			b, ok := in.next(2)
			if !ok {
				return m.truncated(off, op)
			}
			v = intValue(kInt, int64(binary.LittleEndian.Uint16(b)))
		case opLong1, opLong4:
			var n int64
			if op == opLong1 {
				b, ok := in.next(1)
				if !ok {
					return m.truncated(off, op)
				}
				n = int64(b[0])
			} else {
				b, ok := in.next(4)
				if !ok {
					return m.truncated(off, op)
				}
				n = int64(int32(binary.LittleEndian.Uint32(b)))
				if n < 0 {
					return m.fail(off, op, "negative byte count %d", n)
				}
			}
			v = value{k: kInt}
			if n <= 8 {
				b, ok := in.next(int(n))
				if !ok {
					return m.truncated(off, op)
				}
				v = intValue(kInt, decodeLong(b))
			} else if !in.skip(n) {
				return m.truncated(off, op)
			}
		case opNone:
			v = value{k: kNone}
		case opNewTrue:
			v = intValue(kBool, 1)
		case opNewFalse:
			v = value{k: kBool}
		case opBinFloat:
			if !in.skip(8) {
				return m.truncated(off, op)
			}
			v = value{k: kFloat}
		case opPersID:
			if _, _, ok := in.line(lim.MaxLine); !ok {
				return m.truncated(off, op)
			}
			v = value{k: kPersistent}
		case opBinPersID:
			if _, ok := m.pop(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			v = value{k: kPersistent}
		case opString:
			b, long, ok := in.line(lim.MaxLine)
			if !ok {
				return m.truncated(off, op)
			}
			if long {
				v = value{k: kStr, ref: -1, n: int32(lim.MaxLine)}
				break
			}
			if len(b) > 0 && b[len(b)-1] == '\r' {
				b = b[:len(b)-1]
			}
			if len(b) < 2 || b[0] != b[len(b)-1] || (b[0] != '\'' && b[0] != '"') {
				return m.fail(off, op, "argument is not quoted")
			}
			d, ok := escapeDecode(b[1 : len(b)-1])
			if !ok {
				v = value{k: kStr, ref: -1, n: int32(len(b))}
				break
			}
			v = m.newStr(d)
		case opUnicode:
			b, long, ok := in.line(lim.MaxLine)
			if !ok {
				return m.truncated(off, op)
			}
			if long {
				v = value{k: kStr, ref: -1, n: int32(lim.MaxLine)}
				break
			}
			d, ok := rawUnicodeEscape(b)
			if !ok {
				v = value{k: kStr, ref: -1, n: int32(len(b))}
				break
			}
			v = m.newStr(d)
		case opShortBinString, opShortBinUni, opShortBinBytes:
			b, ok := in.next(1)
			if !ok {
				return m.truncated(off, op)
			}
			n := int(b[0])
			if op == opShortBinBytes {
				if !in.skip(int64(n)) {
					return m.truncated(off, op)
				}
				v = value{k: kBytes}
				break
			}
			if b, ok = in.next(n); !ok {
				return m.truncated(off, op)
			}
			v = m.newStr(b)
		case opBinString, opBinUnicode, opBinBytes:
			b, ok := in.next(4)
			if !ok {
				return m.truncated(off, op)
			}
			var n int64
			if op == opBinString {
				n = int64(int32(binary.LittleEndian.Uint32(b)))
				if n < 0 {
					return m.fail(off, op, "negative length %d", n)
				}
			} else {
				n = int64(binary.LittleEndian.Uint32(b))
			}
			if v, ok = m.payload(n, op != opBinBytes); !ok {
				return m.truncated(off, op)
			}
		case opBinUnicode8, opBinBytes8, opByteArray8:
			b, ok := in.next(8)
			if !ok {
				return m.truncated(off, op)
			}
			u := binary.LittleEndian.Uint64(b)
			if u > math.MaxInt64 {
				return m.fail(off, op, "length %d exceeds the maximum", u)
			}
			if v, ok = m.payload(int64(u), op == opBinUnicode8); !ok {
				return m.truncated(off, op)
			}
		case opAppend:
			if _, ok := m.pop(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			if _, ok := m.top(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			continue
		case opAppends, opAddItems:
			if _, ok := m.popMark(); !ok {
				return m.fail(off, op, "no MARK")
			}
			if _, ok := m.top(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			continue
		case opSetItem:
			val, ok1 := m.pop()
			key, ok2 := m.pop()
			d, ok3 := m.top()
			if !ok1 || !ok2 || !ok3 {
				return m.fail(off, op, "stack underflow")
			}
			if key.k == kStr {
				m.setItem(*d, key, val)
			}
			continue
		case opSetItems:
			items, ok := m.popMark()
			if !ok {
				return m.fail(off, op, "no MARK")
			}
			d, ok := m.top()
			if !ok {
				return m.fail(off, op, "stack underflow")
			}
			if len(items)%2 != 0 {
				return m.fail(off, op, "odd number of items")
			}
			if o := m.obj(*d); o != nil {
				for i := 0; i < len(items); i += 2 {
					if items[i].k == kStr {
						m.setItem(*d, items[i], items[i+1])
					}
				}
			}
			continue
		case opDict:
			items, ok := m.popMark()
			if !ok {
				return m.fail(off, op, "no MARK")
			}
			if len(items)%2 != 0 {
				return m.fail(off, op, "odd number of items")
			}
			if v, ok = m.newObj(kDict, -1); !ok {
				return m.limitHit(off, "objects", lim.MaxValues)
			}
			for i := 0; i < len(items); i += 2 {
				if items[i].k == kStr {
					m.setItem(v, items[i], items[i+1])
				}
			}
		case opEmptyDict, opEmptyList, opEmptySet:
			k := kDict
			if op == opEmptyList {
				k = kList
			} else if op == opEmptySet {
				k = kSet
			}
			var ok bool
			if v, ok = m.newObj(k, -1); !ok {
				return m.limitHit(off, "objects", lim.MaxValues)
			}
		case opList:
			if _, ok := m.popMark(); !ok {
				return m.fail(off, op, "no MARK")
			}
			var ok bool
			if v, ok = m.newObj(kList, -1); !ok {
				return m.limitHit(off, "objects", lim.MaxValues)
			}
		case opFrozenSet:
			if _, ok := m.popMark(); !ok {
				return m.fail(off, op, "no MARK")
			}
			v = value{k: kFrozenSet}
		case opTuple:
			items, ok := m.popMark()
			if !ok {
				return m.fail(off, op, "no MARK")
			}
			v = m.newTuple(items)
		case opEmptyTuple:
			v = m.newTuple(nil)
		case opTuple1, opTuple2, opTuple3:
			n := int(op-opTuple1) + 1
			s := m.st
			if len(s.stack)-s.fence < n {
				return m.fail(off, op, "stack underflow")
			}
			items := s.stack[len(s.stack)-n:]
			s.stack = s.stack[:len(s.stack)-n]
			v = m.newTuple(items)
		case opGet, opBinGet, opLongBinGet:
			key, st := m.memoKey(op, off)
			if st != stStop {
				return st
			}
			var ok bool
			if v, ok = m.memoGet(key); !ok {
				if v, ok = m.memoMiss(key, off); !ok {
					return m.fail(off, op, "memo key %d not found", key)
				}
			}
		case opPut, opBinPut, opLongBinPut, opMemoize:
			var key uint64
			if op == opMemoize {
				key = uint64(m.st.memoLen)
			} else {
				var st status
				if key, st = m.memoKey(op, off); st != stStop {
					return st
				}
			}
			t, ok := m.top()
			if !ok {
				return m.fail(off, op, "stack underflow")
			}
			if !m.memoPut(key, *t) {
				return m.limitHit(off, "memo entries", lim.MaxMemo)
			}
			continue
		case opGlobal, opInst:
			mod, long1, ok1 := in.line(lim.MaxLine)
			modS := string(mod)
			name, long2, ok2 := in.line(lim.MaxLine)
			if !ok1 || !ok2 {
				return m.truncated(off, op)
			}
			if long1 || long2 {
				return m.limitHit(off, "bytes in a module or class name", lim.MaxLine)
			}
			opn := "GLOBAL"
			if op == opInst {
				opn = "INST"
			}
			g, ok := m.global(strings.TrimSuffix(modS, "\r"), strings.TrimSuffix(string(name), "\r"), opn, off)
			if !ok {
				return m.limitHit(off, "distinct globals", lim.MaxGlobals)
			}
			if op == opGlobal {
				v = g
				break
			}
			args, ok := m.popMark()
			if !ok {
				return m.fail(off, op, "no MARK")
			}
			v = m.call(g, m.newTuple(args), off)
		case opStackGlobal:
			name, ok1 := m.pop()
			mod, ok2 := m.pop()
			if !ok1 || !ok2 {
				return m.fail(off, op, "stack underflow")
			}
			var st status
			if v, st = m.stackGlobal(mod, name, off); st != stStop {
				return st
			}
		case opReduce:
			args, ok1 := m.pop()
			fn, ok2 := m.pop()
			if !ok1 || !ok2 {
				return m.fail(off, op, "stack underflow")
			}
			v = m.call(fn, args, off)
		case opNewObj:
			args, ok1 := m.pop()
			cls, ok2 := m.pop()
			if !ok1 || !ok2 {
				return m.fail(off, op, "stack underflow")
			}
			v = m.call(cls, args, off)
		case opNewObjEx:
			_, ok0 := m.pop()
			args, ok1 := m.pop()
			cls, ok2 := m.pop()
			if !ok0 || !ok1 || !ok2 {
				return m.fail(off, op, "stack underflow")
			}
			v = m.call(cls, args, off)
		case opObj:
			items, ok := m.popMark()
			if !ok {
				return m.fail(off, op, "no MARK")
			}
			if len(items) == 0 {
				return m.fail(off, op, "no class")
			}
			cls := items[0]
			args := m.newTuple(items[1:])
			v = m.call(cls, args, off)
		case opBuild:
			stateV, ok := m.pop()
			if !ok {
				return m.fail(off, op, "stack underflow")
			}
			t, ok := m.top()
			if !ok {
				return m.fail(off, op, "stack underflow")
			}
			if st := m.build(*t, stateV, off); st != stStop {
				return st
			}
			continue
		case opExt1, opExt2, opExt4:
			n := 1 << (op - opExt1)
			if op == opExt4 {
				n = 4
			}
			b, ok := in.next(n)
			if !ok {
				return m.truncated(off, op)
			}
			var code uint32
			for i := n - 1; i >= 0; i-- {
				code = code<<8 | uint32(b[i])
			}
			if !m.probe {
				m.add(RuleExtension, off, fmt.Sprintf("extension %d", code), 0.8, fmt.Sprintf("%s at offset %d imports extension code %d from the copyreg registry; the global it names depends on the loading process", opName(op), off, code))
			}
			v = intValue(kExt, int64(code))
		case opProto:
			b, ok := in.next(1)
			if !ok {
				return m.truncated(off, op)
			}
			if b[0] > 5 {
				return m.fail(off, op, "unsupported protocol %d", b[0])
			}
			m.proto = int(b[0])
			continue
		case opFrame:
			b, ok := in.next(8)
			if !ok {
				return m.truncated(off, op)
			}
			if binary.LittleEndian.Uint64(b) > math.MaxInt64 {
				return m.fail(off, op, "frame length exceeds the maximum")
			}
			continue
		case opNextBuffer:
			v = value{k: kBuffer}
		case opReadOnlyBuffer:
			if _, ok := m.top(); !ok {
				return m.fail(off, op, "stack underflow")
			}
			continue
		default:
			return m.fail(off, op, "unknown opcode 0x%02x", op)
		}
		if !m.push(v) {
			return m.limitHit(off, "stack entries", lim.MaxStack)
		}
	}
}

// payload reads a string (kept if short) or skips a bytes payload of n
// bytes.
func (m *machine) payload(n int64, isStr bool) (value, bool) {
	if isStr && n <= int64(m.lim.MaxString) {
		b, ok := m.in.next(int(n))
		if !ok {
			return value{}, false
		}
		return m.newStr(b), true
	}
	if !m.in.skip(n) {
		return value{}, false
	}
	if isStr {
		return value{k: kStr, ref: -1, n: int32(min(n, math.MaxInt32))}, true
	}
	return value{k: kBytes}, true
}

// memoKey reads the key argument of a GET or PUT opcode.
func (m *machine) memoKey(op byte, off int64) (uint64, status) {
	in := m.in
	switch op {
	case opBinGet, opBinPut:
		b, ok := in.next(1)
		if !ok {
			return 0, m.truncated(off, op)
		}
		return uint64(b[0]), stStop
	case opLongBinGet, opLongBinPut:
		b, ok := in.next(4)
		if !ok {
			return 0, m.truncated(off, op)
		}
		return uint64(binary.LittleEndian.Uint32(b)), stStop
	}
	b, long, ok := in.line(m.lim.MaxLine)
	if !ok {
		return 0, m.truncated(off, op)
	}
	if long {
		return 0, m.limitHit(off, "bytes in a memo key", m.lim.MaxLine)
	}
	k, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || k < 0 {
		return 0, m.fail(off, op, "invalid memo key %q", b)
	}
	return uint64(k), stStop
}

// stackGlobal resolves STACK_GLOBAL's operands.
func (m *machine) stackGlobal(mod, name value, off int64) (value, status) {
	ms, ok1 := m.str(mod)
	ns, ok2 := m.str(name)
	if ok1 && ok2 {
		g, ok := m.global(ms, ns, "STACK_GLOBAL", off)
		if !ok {
			return value{}, m.limitHit(off, "distinct globals", m.lim.MaxGlobals)
		}
		return g, stStop
	}
	// Values a loader would reject outright: the pickle fails here.
	for _, v := range [2]value{mod, name} {
		switch v.k {
		case kNone, kBool, kInt, kFloat, kBytes, kTuple, kList, kDict, kSet, kFrozenSet:
			return value{}, m.fail(off, opStackGlobal, "module or name is a %s, not a str", kindNames[v.k])
		}
	}
	if !m.probe {
		exc := "<" + m.describe(mod) + ">.<" + m.describe(name) + ">"
		m.add(RuleUnresolvedGlobal, off, exc, 0.9, fmt.Sprintf("STACK_GLOBAL at offset %d imports a global whose module or name is not a constant string (%s); what it loads is decided at load time", off, exc))
	}
	m.calls++
	return value{k: kUnresolved}, stStop
}

// call models fn(*args) (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST).
func (m *machine) call(fn, args value, off int64) value {
	switch fn.k {
	case kGlobal:
		m.markCalled(fn.ref, off)
		if v, ok := m.special(fn.ref, args, off); ok {
			return v
		}
		if v, ok := m.newObj(kObject, fn.ref); ok {
			return v
		}
		return value{k: kAttr}
	case kAttrGetter:
		obj, ok := m.arg(args, 0)
		if !ok {
			break
		}
		names := m.st.vals[fn.ref : fn.ref+fn.n]
		v := obj
		for _, nv := range names {
			name, _ := m.str(nv)
			for part := range strings.SplitSeq(name, ".") {
				v, ok = m.attr(v, part, "attrgetter", off)
				if !ok {
					return value{k: kAttr}
				}
			}
		}
		return v
	case kMethodCaller:
		obj, ok := m.arg(args, 0)
		if !ok {
			break
		}
		name, _ := m.str(m.st.vals[fn.ref])
		g, ok := m.attr(obj, name, "methodcaller", off)
		if ok && g.k == kGlobal {
			m.markCalled(g.ref, off)
		}
		return value{k: kAttr}
	case kPartial:
		// keep stores the wrapped callable, which may itself be a partial;
		// unwrap iteratively.
		inner := m.st.vals[fn.ref]
		for range 64 {
			if inner.k != kPartial {
				return m.call(inner, args, off)
			}
			inner = m.st.vals[inner.ref]
		}
		return value{k: kAttr}
	case kExt, kUnresolved:
		return value{k: kAttr}
	}
	if fn.k == kAttr || fn.k == kObject || fn.k == kPersistent || fn.k == kModule {
		if !m.probe {
			d := m.describe(fn)
			m.add(RuleIndirectCall, off, d, 0.7, fmt.Sprintf("a call at offset %d calls a value that is not an imported global (%s)", off, d))
		}
		m.calls++
	}
	return value{k: kAttr}
}

func (m *machine) arg(args value, i int) (value, bool) {
	items, ok := m.items(args)
	if !ok || i >= len(items) {
		return value{}, false
	}
	return items[i], true
}

// The callees special models.
const (
	spNone = iota
	spGetattr
	spImport
	spAttrGetter
	spMethodCaller
	spPartial
	spReconstructor
	spDtype
	spWrapper
	spCallFirst
)

var specials = map[string]uint8{
	"builtins.getattr":    spGetattr,
	"builtins.__import__": spImport, "importlib.import_module": spImport, "importlib.__import__": spImport,
	"pydoc.locate": spImport, "pkgutil.resolve_name": spImport, "torch._utils._import_dotted_name": spImport,
	"operator.attrgetter": spAttrGetter, "_operator.attrgetter": spAttrGetter,
	"operator.methodcaller": spMethodCaller, "_operator.methodcaller": spMethodCaller,
	"functools.partial":                   spPartial,
	"copyreg._reconstructor":              spReconstructor,
	"numpy.dtype":                         spDtype,
	"torch._tensor._rebuild_from_type_v2": spCallFirst, "torch._tensor._rebuild_from_type": spCallFirst,
	"copyreg.__newobj__": spCallFirst, "copyreg.__newobj_ex__": spCallFirst,
	"joblib.numpy_pickle.NumpyArrayWrapper": spWrapper, "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper": spWrapper,
}

// special models the calls whose results matter for resolving later
// globals: getattr, module imports, operator gadgets, functools.partial,
// copyreg._reconstructor, numpy.dtype and joblib's array wrapper.
func (m *machine) special(idx int32, args value, off int64) (value, bool) {
	switch m.gspec[idx] {
	case spNone:
		return value{}, false
	case spGetattr:
		obj, ok1 := m.arg(args, 0)
		nv, ok2 := m.arg(args, 1)
		if !ok1 || !ok2 {
			return value{k: kAttr}, true
		}
		name, ok := m.str(nv)
		if !ok {
			return value{k: kAttr}, true
		}
		if v, ok := m.attr(obj, name, "getattr", off); ok {
			return v, true
		}
		return value{k: kAttr}, true
	case spImport:
		// These return the module (or, for a dotted path, the object)
		// their string names; a module value's attributes are globals.
		nv, ok := m.arg(args, 0)
		if !ok {
			return value{k: kAttr}, true
		}
		name, ok := m.str(nv)
		if !ok || name == "" {
			return value{k: kAttr}, true
		}
		mod, attr := name, ""
		if i := strings.IndexByte(name, ':'); i >= 0 { // pkgutil.resolve_name("pkg.mod:obj.attr")
			mod, attr = name[:i], name[i+1:]
		}
		if v, ok := m.global(mod, attr, m.res.Globals[idx].Name, off); ok {
			return v, true
		}
		return value{k: kAttr}, true
	case spAttrGetter:
		items, ok := m.items(args)
		if !ok || len(items) == 0 {
			return value{k: kAttr}, true
		}
		for _, it := range items {
			if _, ok := m.str(it); !ok {
				return value{k: kAttr}, true
			}
		}
		t := m.newTuple(items)
		if t.ref < 0 {
			return value{k: kAttr}, true
		}
		return value{k: kAttrGetter, ref: t.ref, n: t.n}, true
	case spMethodCaller:
		nv, ok := m.arg(args, 0)
		if _, isStr := m.str(nv); !ok || !isStr {
			return value{k: kAttr}, true
		}
		if r := m.keep(nv); r >= 0 {
			return value{k: kMethodCaller, ref: r}, true
		}
	case spPartial:
		f, ok := m.arg(args, 0)
		if !ok {
			return value{k: kAttr}, true
		}
		if r := m.keep(f); r >= 0 {
			return value{k: kPartial, ref: r}, true
		}
	case spCallFirst:
		// Allowlisted helpers that call their first argument
		// (_rebuild_from_type_v2(func, type, args, state) runs func(*args)).
		if f, ok := m.arg(args, 0); ok {
			if f.k == kGlobal {
				m.markCalled(f.ref, off)
			}
		}
		return value{}, false
	case spReconstructor:
		// _reconstructor(cls, base, state) runs base.__new__ and, unless
		// it is object's, base.__init__: both are calls.
		if base, ok := m.arg(args, 1); ok && base.k == kGlobal {
			m.markCalled(base.ref, off)
		}
		cls, ok := m.arg(args, 0)
		if ok && cls.k == kGlobal {
			m.markCalled(cls.ref, off)
			if v, ok := m.newObj(kObject, cls.ref); ok {
				return v, true
			}
		}
	case spDtype:
		v, ok := m.newObj(kObject, idx)
		if !ok {
			return value{}, false
		}
		o := &m.st.objs[v.ref]
		o.kind = oDtype
		x := m.extra(o)
		if tv, ok := m.arg(args, 0); ok {
			if ts, ok := m.str(tv); ok {
				x.itemsize, x.hasObject = typestrSize(ts)
				x.structured = strings.HasPrefix(strings.TrimLeft(ts, "<>|="), "V")
			}
		}
		return v, true
	case spWrapper:
		v, ok := m.newObj(kObject, idx)
		if !ok {
			return value{}, false
		}
		m.st.objs[v.ref].kind = oWrapper
		return v, true
	}
	return value{}, false
}

// typestrSize returns the item size of a NumPy type string such as "f8",
// "<i4", "U10" or "O8", 0 if unknown, and whether it holds objects.
func typestrSize(ts string) (int64, bool) {
	ts = strings.TrimLeft(ts, "<>|=")
	if ts == "" {
		return 0, false
	}
	k := ts[0]
	n, err := strconv.ParseInt(ts[1:], 10, 64)
	if err != nil || n < 0 {
		if k == 'O' {
			return 8, true
		}
		return 0, false
	}
	switch k {
	case 'O':
		return 8, true
	case 'U':
		return n * 4, false
	case 'b', 'i', 'u', 'f', 'c', 'S', 'V', 'M', 'm', 'a':
		return n, false
	}
	return 0, false
}

// build models BUILD: inst.__setstate__(state) or an update of its
// __dict__ (and setattr for slot state).
func (m *machine) build(inst, st value, off int64) status {
	if !m.probe {
		if key := m.specialKey(st); key != "" {
			d := m.describe(inst)
			m.add(RuleBuildDunder, off, key, 0.9, fmt.Sprintf("BUILD at offset %d sets the special attribute %s on %s, which changes what later operations call", off, key, d))
		}
		if inst.k == kGlobal || inst.k == kModule {
			d := m.describe(inst)
			m.add(RuleBuildOnGlobal, off, d, 0.85, fmt.Sprintf("BUILD at offset %d changes the state of the imported %s (setting attributes of a class or module)", off, d))
		}
	}
	if inst.k != kObject || inst.ref < 0 {
		return stStop
	}
	o := &m.st.objs[inst.ref]
	switch o.kind {
	case oDtype:
		// (version, byteorder, subarray, names, fields, elsize, alignment, flags)
		if items, ok := m.items(st); ok && len(items) >= 8 {
			// NumPy takes elsize from the state only for structured
			// ('V') and unsized types; the type string decides the rest.
			x := m.extra(o)
			if e := items[5]; e.k == kInt && e.int() > 0 && (x.structured || x.itemsize == 0) {
				x.itemsize = e.int()
			}
			if f := items[7]; f.k == kInt && f.int()&1 != 0 {
				x.hasObject = true
			}
		}
	case oWrapper:
		if m.depth == 0 {
			return m.joblibArray(inst, st, off)
		}
	}
	return stStop
}

// specialKey returns the first special key BUILD's state sets.
func (m *machine) specialKey(st value) string {
	if o := m.obj(st); o != nil {
		return m.specialOf(o)
	}
	if items, ok := m.items(st); ok && len(items) == 2 {
		for _, it := range items {
			if o := m.obj(it); o != nil && m.specialOf(o) != "" {
				return m.specialOf(o)
			}
		}
	}
	return ""
}

// joblibArray follows the array data joblib writes right after a
// NumpyArrayWrapper's BUILD: a nested pickle for object arrays, otherwise
// an optional padding (one length byte, then that many bytes) and
// count × itemsize raw bytes. The raw bytes are also probed as opcodes,
// since plain pickle.load would run them.
func (m *machine) joblibArray(inst, st value, off int64) status {
	so := m.obj(st)
	fail := func(why string) status {
		m.add(RuleUnsizedArray, off, "NumpyArrayWrapper", 0.7, fmt.Sprintf("joblib array at offset %d: %s, so the size of the array data that follows is unknown; the rest of the stream was not analysed", off, why))
		return stAbort
	}
	if so == nil {
		return fail("the wrapper's state is not a dict")
	}
	dv, ok := m.entry(so, "dtype")
	if !ok || dv.k != kObject || m.st.objs[dv.ref].kind != oDtype {
		return fail("its dtype is not a numpy.dtype")
	}
	dt := *m.extra(&m.st.objs[dv.ref])
	m.st.stack[len(m.st.stack)-1] = value{k: kAttr} // the array replaces the wrapper
	if dt.hasObject {
		start := m.in.offset()
		switch m.runPickle(m.depth+1, false) {
		case stStop:
			return stStop
		case stFail:
			if m.in.err == nil {
				m.add(RuleMalformed, m.failOff, m.failOp, 0.9, fmt.Sprintf("invalid pickle of the joblib object array at offset %d: %s at offset %d", start, m.failMsg, m.failOff))
			}
		}
		return stAbort
	}
	if dt.itemsize <= 0 {
		return fail("its dtype's item size is unknown")
	}
	sv, ok := m.entry(so, "shape")
	if !ok {
		return fail("it has no shape")
	}
	dims, ok := m.items(sv)
	if !ok {
		return fail("its shape is not a tuple of known length")
	}
	count := int64(1)
	for _, d := range dims {
		if d.k != kInt || d.int() < 0 {
			return fail("its shape holds a value that is not a non-negative int")
		}
		if d.int() != 0 && count > math.MaxInt64/d.int() {
			return fail("its shape overflows")
		}
		count *= d.int()
	}
	if count > 0 && dt.itemsize > math.MaxInt64/count {
		return fail("its size overflows")
	}
	size := count * dt.itemsize
	if av, ok := m.entry(so, "numpy_array_alignment_bytes"); ok && av.k == kInt {
		b, ok := m.in.next(1)
		if !ok {
			return m.truncated(off, opBuild)
		}
		if !m.in.skip(int64(b[0])) {
			return m.truncated(off, opBuild)
		}
	}
	// Probe the array bytes as a pickle, fenced to the array.
	start := m.in.offset()
	end := start + size
	savedFence, savedFail := m.in.fence, [3]string{m.failMsg, m.failOp, ""}
	m.in.setFence(end)
	m.outer = m.st
	m.runPickle(m.depth+1, true)
	m.outer = nil
	m.in.setFence(savedFence)
	m.failMsg, m.failOp = savedFail[0], savedFail[1]
	if m.in.err != nil {
		return stFail
	}
	m.arrays++
	if left := end - m.in.offset(); left > 0 && !m.in.skip(left) {
		return m.fail(off, opBuild, "input ends inside the joblib array data of %d bytes that starts at offset %d", size, start)
	}
	return stStop
}

// decodeLong decodes a little-endian two's-complement integer of up to 8
// bytes.
func decodeLong(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if shift := uint(64 - 8*len(b)); shift > 0 {
		return int64(u<<shift) >> shift
	}
	return int64(u)
}

// escapeDecode undoes the escapes of a STRING argument (Python's
// codecs.escape_decode).
func escapeDecode(b []byte) ([]byte, bool) {
	if !slices.Contains(b, '\\') {
		return b, true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return nil, false
		}
		switch c = b[i]; c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(b) {
				return nil, false
			}
			n, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8)
			if err != nil {
				return nil, false
			}
			out = append(out, byte(n))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := int(c - '0')
			for j := 0; j < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; j++ {
				i++
				n = n*8 + int(b[i]-'0')
			}
			out = append(out, byte(n))
		default:
			out = append(out, '\\', c)
		}
	}
	return out, true
}

// rawUnicodeEscape decodes a UNICODE argument (Python's
// raw_unicode_escape: \uXXXX and \UXXXXXXXX escapes after an odd run of
// backslashes, every other byte a Latin-1 character) to UTF-8.
func rawUnicodeEscape(b []byte) ([]byte, bool) {
	ascii := true
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return b, true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = utf8Append(out, rune(c))
			continue
		}
		j := i
		for j < len(b) && b[j] == '\\' {
			j++
		}
		run := j - i
		for range run - 1 {
			out = append(out, '\\')
		}
		i = j - 1 // the last backslash of the run
		if run%2 == 0 || j >= len(b) || (b[j] != 'u' && b[j] != 'U') {
			out = append(out, '\\')
			continue
		}
		n := 4
		if b[j] == 'U' {
			n = 8
		}
		if j+1+n > len(b) {
			return nil, false
		}
		r, err := strconv.ParseUint(string(b[j+1:j+1+n]), 16, 32)
		if err != nil || r > 0x10FFFF {
			return nil, false
		}
		out = utf8Append(out, rune(r))
		i = j + n
	}
	return out, true
}

func utf8Append(b []byte, r rune) []byte {
	return append(b, string(r)...)
}

var opNames = map[byte]string{
	opMark: "MARK", opStop: "STOP", opPop: "POP", opPopMark: "POP_MARK", opDup: "DUP", opFloat: "FLOAT",
	opInt: "INT", opBinInt: "BININT", opBinInt1: "BININT1", opLong: "LONG", opBinInt2: "BININT2",
	opNone: "NONE", opPersID: "PERSID", opBinPersID: "BINPERSID", opReduce: "REDUCE", opString: "STRING",
	opBinString: "BINSTRING", opShortBinString: "SHORT_BINSTRING", opUnicode: "UNICODE",
	opBinUnicode: "BINUNICODE", opAppend: "APPEND", opBuild: "BUILD", opGlobal: "GLOBAL", opDict: "DICT",
	opEmptyDict: "EMPTY_DICT", opAppends: "APPENDS", opGet: "GET", opBinGet: "BINGET", opInst: "INST",
	opLongBinGet: "LONG_BINGET", opList: "LIST", opEmptyList: "EMPTY_LIST", opObj: "OBJ", opPut: "PUT",
	opBinPut: "BINPUT", opLongBinPut: "LONG_BINPUT", opSetItem: "SETITEM", opTuple: "TUPLE",
	opEmptyTuple: "EMPTY_TUPLE", opSetItems: "SETITEMS", opBinFloat: "BINFLOAT", opProto: "PROTO",
	opNewObj: "NEWOBJ", opExt1: "EXT1", opExt2: "EXT2", opExt4: "EXT4", opTuple1: "TUPLE1",
	opTuple2: "TUPLE2", opTuple3: "TUPLE3", opNewTrue: "NEWTRUE", opNewFalse: "NEWFALSE", opLong1: "LONG1",
	opLong4: "LONG4", opBinBytes: "BINBYTES", opShortBinBytes: "SHORT_BINBYTES",
	opShortBinUni: "SHORT_BINUNICODE", opBinUnicode8: "BINUNICODE8", opBinBytes8: "BINBYTES8",
	opEmptySet: "EMPTY_SET", opAddItems: "ADDITEMS", opFrozenSet: "FROZENSET", opNewObjEx: "NEWOBJ_EX",
	opStackGlobal: "STACK_GLOBAL", opMemoize: "MEMOIZE", opFrame: "FRAME", opByteArray8: "BYTEARRAY8",
	opNextBuffer: "NEXT_BUFFER", opReadOnlyBuffer: "READONLY_BUFFER",
}

func opName(op byte) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("opcode 0x%02x", op)
}
