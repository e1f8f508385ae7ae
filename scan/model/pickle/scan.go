// Package pickle analyses Python pickle streams (protocols 0 to 5)
// statically, for `rampart scan model`: it never loads or executes
// anything. A symbolic stack machine runs every opcode over placeholder
// values, keeping exactly as much as is needed to know which globals the
// stream imports (GLOBAL, STACK_GLOBAL, INST, and attribute chains built
// with getattr, operator.attrgetter or importlib.import_module) and
// which of them it calls (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST, BUILD on
// a class), and judges each with a policy: an allowlist of the globals
// ordinary checkpoints use and a denylist of those known to run code.
//
// A stream may hold several pickles one after another (PyTorch's legacy
// format writes five, then raw storage bytes); Scan keeps reading while
// the next bytes parse as a pickle. joblib files interleave raw NumPy
// array bytes with the pickle; Scan follows joblib's NumpyArrayWrapper to
// skip exactly those bytes (probing them as opcodes too, since plain
// pickle.load would run them) and reads on, so a payload after an array
// is still found.
//
// Everything about the bytes becomes a finding (see Rules); Scan returns
// an error only when reading fails. Every length, count and depth is
// bounded by Limits, and no declared length is allocated: payloads longer
// than Limits.MaxString are skipped without copying.
//
// docs/model/pickle.md describes the machine, the policy and the
// measurements.
package pickle

import (
	"fmt"
	"io"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// Limits bounds the work and memory of one Scan. A zero field takes its
// default.
type Limits struct {
	// MaxStack bounds the value stack plus the MARK stack (default 1<<20).
	MaxStack int
	// MaxMemo bounds the number of memo entries (default 1<<20).
	MaxMemo int
	// MaxString is the longest string kept for analysis (default 1024
	// bytes, at most 64 KiB − 16); longer strings and all bytes payloads are skipped, and a
	// long string used as a global's name makes the global unresolved.
	MaxString int
	// MaxLine bounds protocol 0 argument lines that are kept: module and
	// class names, memo keys, numbers (default 4096 bytes, at most 64 KiB).
	// Longer string lines are skipped; longer name lines stop the
	// analysis.
	MaxLine int
	// MaxOps bounds the opcodes executed over the whole stream (default
	// 1<<34, far more than any real checkpoint).
	MaxOps int64
	// MaxPickles bounds the pickles read from one stream (default 1<<16).
	MaxPickles int
	// MaxGlobals bounds the distinct globals recorded (default 1<<16).
	MaxGlobals int
	// MaxValues bounds the tuple elements, objects and string bytes kept
	// per pickle (default 1<<22); beyond it contents are dropped, which
	// only makes later resolutions fail (and be reported as unresolved).
	MaxValues int
	// MaxKeep is the largest tuple, and the most string-keyed entries of a
	// dict, whose contents are kept (default 64).
	MaxKeep int
	// MaxFindings bounds the findings of one Scan (default 1000).
	MaxFindings int
}

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits {
	return Limits{
		MaxStack: 1 << 20, MaxMemo: 1 << 20, MaxString: 1024, MaxLine: 4096, MaxOps: 1 << 34,
		MaxPickles: 1 << 16, MaxGlobals: 1 << 16, MaxValues: 1 << 22, MaxKeep: 64, MaxFindings: 1000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxStack, d.MaxStack)
	set(&l.MaxMemo, d.MaxMemo)
	set(&l.MaxString, d.MaxString)
	set(&l.MaxLine, d.MaxLine)
	set(&l.MaxPickles, d.MaxPickles)
	set(&l.MaxGlobals, d.MaxGlobals)
	set(&l.MaxValues, d.MaxValues)
	set(&l.MaxKeep, d.MaxKeep)
	set(&l.MaxFindings, d.MaxFindings)
	if l.MaxOps <= 0 {
		l.MaxOps = d.MaxOps
	}
	l.MaxLine = min(l.MaxLine, inputSize-1)
	l.MaxString = min(l.MaxString, inputSize-16)
	return l
}

// Options configures Scan.
type Options struct {
	Limits Limits
	// Allow adds to the allowlist dotted paths ("mypkg.models.Net"), which
	// the denylist does not override, and modules followed by ".*"
	// ("sklearn.*"), which allow every name under the module that the
	// policy would otherwise call unknown, never a dangerous one. Check
	// entries that come from users with CheckAllow.
	Allow []string
	// Offset is the offset of r's first byte in the file that embeds the
	// stream (a NumPy object array after its header, say); it is added to
	// every offset Scan reports.
	Offset int64
}

// Global is one distinct global a stream imports.
type Global struct {
	// Module and Name are as the pickle spells them ("__builtin__",
	// "eval"); Name is empty for a module imported by
	// importlib.import_module or __import__.
	Module string `json:"module"`
	Name   string `json:"name"`
	// Op says how it was reached: GLOBAL, STACK_GLOBAL, INST, getattr,
	// attrgetter, methodcaller, or the function that imported it by name
	// (import_module, __import__, locate, resolve_name, …).
	Op string `json:"op"`
	// Offset is the stream offset of the first opcode that reached it.
	Offset int64 `json:"offset"`
	// Refs counts the opcodes that reached it.
	Refs int `json:"refs"`
	// Called reports whether the stream calls it (REDUCE, NEWOBJ,
	// NEWOBJ_EX, OBJ, INST, or through a partial, methodcaller, …);
	// CallOffset is the first such call.
	Called     bool  `json:"called"`
	CallOffset int64 `json:"call_offset,omitempty"`
	// Verdict and Why are the policy's judgement (see Judge).
	Verdict Verdict `json:"verdict"`
	Why     string  `json:"why"`
}

// String returns module.name.
func (g Global) String() string {
	if g.Name == "" {
		return g.Module
	}
	return g.Module + "." + g.Name
}

// Result is what Scan learned about a stream.
type Result struct {
	// Globals lists the distinct globals in order of first reference.
	Globals []Global `json:"globals"`
	// Pickles counts the complete pickles (ended by STOP).
	Pickles int `json:"pickles"`
	// Protocols lists the protocol of each complete pickle (0 when it has
	// no PROTO opcode), at most 64 entries.
	Protocols []int `json:"protocols"`
	// End is the offset just after the last complete pickle; Trailing
	// counts the bytes after it that were not analysed as pickles (data
	// such as legacy PyTorch storages), when the stream was read to its end.
	End      int64 `json:"end"`
	Trailing int64 `json:"trailing"`
	// Findings are the problems found, in stream order per kind.
	Findings []finding.Finding `json:"findings"`
	// DroppedFindings counts findings beyond Limits.MaxFindings.
	DroppedFindings int `json:"dropped_findings,omitempty"`
}

// Max returns the highest severity among the findings, and false if there
// are none.
func (r *Result) Max() (finding.Severity, bool) {
	rep := finding.Report{Findings: r.Findings}
	return rep.Max()
}

// Scan reads the pickle stream r, pickle after pickle, until its end or
// until bytes after a complete pickle do not parse as another (their
// length, Result.Trailing, is then measured by seeking when r is an
// io.Seeker, else by reading), and reports what the stream imports and
// calls. The error is non-nil only when reading r fails.
func Scan(r io.Reader, opts Options) (*Result, error) {
	lim := opts.Limits.withDefaults()
	m := newMachine(r, lim, opts.Allow)
	m.in.base = opts.Offset
	defer m.release()
	m.scanStream()
	if m.in.err != nil {
		return m.res, fmt.Errorf("pickle: reading at offset %d: %w", m.in.offset(), m.in.err)
	}
	m.finish()
	return m.res, nil
}

// scanStream reads consecutive pickles.
func (m *machine) scanStream() {
	for {
		b, ok := m.in.peekByte()
		if !ok {
			return
		}
		if m.res.Pickles >= m.lim.MaxPickles {
			m.limitHit(m.in.offset(), "pickles per stream", m.lim.MaxPickles)
			return
		}
		start := m.in.offset()
		first := m.res.Pickles == 0
		before := len(m.res.Globals) + m.calls
		st := m.runPickle(0, false)
		switch st {
		case stStop:
			m.res.Pickles++
			if len(m.res.Protocols) < 64 {
				m.res.Protocols = append(m.res.Protocols, m.proto)
			}
			m.res.End = m.in.offset()
			continue
		case stFail:
			if m.in.err != nil {
				return
			}
			if first {
				msg := fmt.Sprintf("invalid pickle: %s at offset %d; a loader raises there after running every operation before it", m.failMsg, m.failOff)
				if m.arrays > 0 {
					// Benign joblib files always parse on after their
					// arrays: a failure there means the array sizes were
					// crafted to hide what follows from scanners.
					msg += fmt.Sprintf("; it follows %d joblib arrays whose data was skipped, so the bytes may have been arranged to hide a payload", m.arrays)
				}
				if f := m.add(RuleMalformed, m.failOff, m.failOp, 0.9, msg); f != nil && m.arrays > 0 {
					f.Severity = finding.High
				}
				return
			}
			if b == opProto || len(m.res.Globals)+m.calls > before {
				m.add(RuleTrailing, start, m.failOp, 0.6, fmt.Sprintf("bytes at offset %d after pickle %d start a pickle that does not parse (%s at offset %d)", start, m.res.Pickles, m.failMsg, m.failOff))
			}
			m.res.Trailing = m.streamEnd() - m.res.End
			return
		default: // limit or abort: already reported
			return
		}
	}
}

// streamEnd returns the offset of the end of the stream: by seeking when
// the reader can (a legacy checkpoint's storages need not be read), else
// by reading to the end.
func (m *machine) streamEnd() int64 {
	in := m.in
	if sk, ok := in.r.(io.Seeker); ok {
		pos, err1 := sk.Seek(0, io.SeekCurrent)
		end, err2 := sk.Seek(0, io.SeekEnd)
		if err1 == nil && err2 == nil && end >= pos {
			return in.base + int64(in.end) + end - pos
		}
	}
	in.skip(1 << 62)
	return in.offset()
}

// finish turns the recorded globals into findings.
func (m *machine) finish() {
	for _, g := range m.res.Globals {
		var r *finding.Rule
		conf := 0.9
		switch g.Verdict {
		case Dangerous:
			r = RuleDangerousGlobal
			if !g.Called {
				conf = 0.8
			}
		case Unknown:
			r = RuleUnknownGlobal
			conf = 0.6
		default:
			continue
		}
		how := "referenced"
		if g.Called {
			how = fmt.Sprintf("called at offset %d", g.CallOffset)
		}
		msg := fmt.Sprintf("%s %s is imported by %s at offset %d and %s: %s", g.Verdict, g.String(), g.Op, g.Offset, how, g.Why)
		m.add(r, g.Offset, g.String(), conf, msg)
	}
	m.sortFindings()
}

// describe renders a value for messages and excerpts.
func (m *machine) describe(v value) string {
	switch v.k {
	case kGlobal, kModule:
		return m.res.Globals[v.ref].String()
	case kObject:
		if o := m.obj(v); o != nil && o.callee >= 0 {
			return "result of " + m.res.Globals[o.callee].String()
		}
		return "computed object"
	case kStr:
		if s, ok := m.str(v); ok {
			return fmt.Sprintf("%q", s)
		}
		return "long string"
	case kUnresolved:
		return "unresolved global"
	case kExt:
		return fmt.Sprintf("extension %d", v.int())
	}
	return strings.TrimPrefix(kindNames[v.k], "k")
}
