package redact

import (
	"context"
	"errors"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/rampartsec/rampart/detect"
)

// Hit is a hit reported by a Stream, in whole-stream byte offsets.
type Hit struct {
	detect.Hit
	// Detector names the detector that reported the hit: its name in
	// StreamConfig.Names, or its Name().
	Detector string
	// Redacted tells whether the released text has the span masked.
	Redacted bool
}

// StreamConfig configures a Stream.
type StreamConfig struct {
	// Detectors inspect the stream. Spanners are run on every Write over a
	// bounded window; Talliers (e.g. the length detector) count every chunk
	// and report as soon as they can decide; any other detector can only
	// judge the whole text, so a Stream that has one releases nothing before
	// Flush (it buffers the whole stream, and the caller should bound it).
	Detectors []detect.Detector
	// Names, when set, names each detector (Names[i] for Detectors[i]) in
	// Redact calls, in Hit.Detector and in errors, e.g. the instance names
	// of a configuration where two detectors share a type. A missing or
	// empty name defaults to the detector's Name().
	Names []string
	// Redact decides per hit whether its span is masked; nil masks every
	// hit. It must be a pure function of the detector name and the hit.
	// Hits from Talliers are never masked.
	Redact func(detector string, h detect.Hit) bool
	// Style renders the masks.
	Style Style
	// Replace, when set, renders each mask instead of Style: it is called
	// with the detector's name, the hit that gives the merged span its
	// label and the span's text (see ApplyFunc). It must give the same
	// result for the same arguments within a stream.
	Replace func(detector string, h detect.Hit, value string) string
	// OnError is called when a span detector fails. Returning true drops
	// that detector for the rest of the stream and goes on (fail open);
	// false, or a nil OnError, stops the stream with a *DetectorError (fail
	// closed).
	OnError func(detector string, err error) bool
	// Role and Surface are passed to the detectors with the text.
	Role    detect.Role
	Surface detect.Surface
}

// DetectorError is the error of a stream stopped because a detector
// failed.
type DetectorError struct {
	// Detector is the failing detector's name (StreamConfig.Names, or its
	// Name()).
	Detector string
	Err      error
}

func (e *DetectorError) Error() string { return "stream detector " + e.Detector + ": " + e.Err.Error() }

// Unwrap returns the detector's error.
func (e *DetectorError) Unwrap() error { return e.Err }

// ErrFlushed is returned by Write and Flush on a stream that was flushed.
var ErrFlushed = errors.New("redact: stream already flushed")

// Stream redacts a text that arrives in chunks, such as a streamed model
// answer, and releases as much of it as it can as early as it can.
//
// The text released by all Write calls and the final Flush, concatenated, is
// exactly Apply(text, hits, style) for the whole text and the hits the
// detectors report on it (those Redact accepts): no redaction is ever missed
// or leaked because of where the chunks were cut. To get there a Stream
// holds back a tail of at most MaxSpan()-1 bytes per Spanner (usually far
// less: a detect.Holder says what at the tail could still become or change
// a match, typically the last word), holds back from the start of any match
// that reaches into that tail, and never splits a UTF-8 sequence.
//
// Write costs time proportional to the chunk plus the held-back tail plus a
// bounded look-behind (detect.LookBehinder; MaxSpan() bytes when a Spanner
// does not say), never to the whole stream.
//
// For the equivalence to hold, a Spanner's hits must be local: whether
// [Start, End) is a hit may depend only on the bytes from
// Start-LookBehind() up to Start+MaxSpan(). The built-in detectors are.
//
// A Stream is not safe for concurrent use.
type Stream struct {
	ctx     context.Context
	cfg     StreamConfig
	spans   []spanner
	tallies []tally
	buffer  bool // some detector needs the whole text

	win     []byte // stream bytes from winBase on
	winBase int    // stream offset of win[0]
	rel     int    // win[:rel] has been released (look-behind)
	look    int    // bytes of look-behind to keep
	done    bool
	err     error
	scratch []pending
}

type spanner struct {
	d    detect.Detector
	name string
	hold int // MaxSpan()-1
	h    detect.Holder
}

type tally struct {
	name string
	t    detect.Tally
}

type pending struct {
	det string
	h   detect.Hit
}

// NewStream returns a Stream over cfg's detectors. ctx is passed to every
// Detect call the stream makes.
func NewStream(ctx context.Context, cfg StreamConfig) *Stream {
	s := &Stream{ctx: ctx, cfg: cfg}
	for i, d := range cfg.Detectors {
		name := d.Name()
		if i < len(cfg.Names) && cfg.Names[i] != "" {
			name = cfg.Names[i]
		}
		if t, ok := d.(detect.Tallier); ok {
			s.tallies = append(s.tallies, tally{name, t.NewTally()})
			continue
		}
		sp, ok := d.(detect.Spanner)
		if !ok || sp.MaxSpan() <= 0 {
			s.buffer = true
			s.spans = append(s.spans, spanner{d: d, name: name})
			continue
		}
		n := spanner{d: d, name: name, hold: sp.MaxSpan() - 1}
		n.h, _ = d.(detect.Holder)
		look := sp.MaxSpan()
		if lb, ok := d.(detect.LookBehinder); ok {
			look = lb.LookBehind()
		}
		s.look = max(s.look, look)
		s.spans = append(s.spans, n)
	}
	return s
}

// Write appends chunk to the stream and returns the text that can be
// released now, redacted, and the hits inside it in whole-stream offsets,
// ordered by Start (after any Tallier hits decided by this chunk). After an error the stream
// is unusable and keeps returning that error.
func (s *Stream) Write(chunk string) (string, []Hit, error) {
	if s.err != nil {
		return "", nil, s.err
	}
	if s.done {
		return "", nil, ErrFlushed
	}
	var hits []Hit
	for _, t := range s.tallies {
		for _, h := range t.t.Add(chunk) {
			hits = append(hits, Hit{Hit: h, Detector: t.name})
		}
	}
	s.win = append(s.win, chunk...)
	if s.buffer {
		return "", hits, nil
	}
	out, found, err := s.release(false)
	if err != nil {
		s.err = err
		return "", nil, err
	}
	return out, append(hits, found...), nil
}

// Flush ends the stream and releases the rest of it, redacted.
func (s *Stream) Flush() (string, []Hit, error) {
	if s.err != nil {
		return "", nil, s.err
	}
	if s.done {
		return "", nil, ErrFlushed
	}
	s.done = true
	var hits []Hit
	for _, t := range s.tallies {
		for _, h := range t.t.End() {
			hits = append(hits, Hit{Hit: h, Detector: t.name})
		}
	}
	out, found, err := s.release(true)
	if err != nil {
		s.err = err
		return "", nil, err
	}
	return out, append(hits, found...), nil
}

// release runs the span detectors over the window and releases what is
// decided; at the end of the stream everything is.
func (s *Stream) release(final bool) (string, []Hit, error) {
	if err := s.ctx.Err(); err != nil {
		return "", nil, err
	}
	n := len(s.win)
	if n == 0 {
		return "", nil, nil
	}
	// The window is only read during Detect and Hold, which must not
	// retain it.
	text := unsafe.String(&s.win[0], n)
	cut := n
	if !final {
		for _, sp := range s.spans {
			p := n - sp.hold
			if sp.h != nil {
				p = max(p, sp.h.Hold(text))
			}
			cut = min(cut, p)
		}
		cut = s.runeStart(max(cut, s.rel))
		if cut == s.rel {
			return "", nil, nil // nothing can be released yet
		}
	}
	found := s.scratch[:0]
	failed := false
	for i, sp := range s.spans {
		hs, err := sp.d.Detect(s.ctx, detect.Input{Text: text, Role: s.cfg.Role, Surface: s.cfg.Surface})
		if err != nil {
			if s.cfg.OnError == nil || !s.cfg.OnError(sp.name, err) {
				return "", nil, &DetectorError{Detector: sp.name, Err: err}
			}
			s.spans[i].d = nil // dropped below
			failed = true
			continue
		}
		for _, h := range hs {
			// A hit that starts in released text is an artefact of the
			// window's cut (a genuine one was held back when it was found).
			if h.Start >= s.rel && h.Start < h.End && h.End <= n {
				found = append(found, pending{sp.name, h})
			}
		}
	}
	if failed {
		s.spans = slices.DeleteFunc(s.spans, func(sp spanner) bool { return sp.d == nil })
	}
	// Pull the cut back before any hit that straddles it and off the middle
	// of a UTF-8 sequence, until neither happens.
	for changed := true; changed; {
		changed = false
		for _, p := range found {
			if p.h.Start < cut && cut < p.h.End {
				cut = s.runeStart(p.h.Start)
				changed = true
			}
		}
	}
	var out []Hit
	var mask []detect.Hit
	var maskDet []string
	for _, p := range found {
		if p.h.End > cut {
			continue
		}
		red := s.cfg.Redact == nil || s.cfg.Redact(p.det, p.h)
		h := p.h
		if red {
			h.Start -= s.rel
			h.End -= s.rel
			mask = append(mask, h)
			maskDet = append(maskDet, p.det)
		}
		g := p.h
		g.Start += s.winBase
		g.End += s.winBase
		out = append(out, Hit{Hit: g, Detector: p.det, Redacted: red})
	}
	slices.SortStableFunc(out, func(a, b Hit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	clear(found)
	s.scratch = found[:0]
	var released string
	if s.cfg.Replace != nil {
		released = ApplyFunc(string(s.win[s.rel:cut]), mask, func(i int, v string) string {
			return s.cfg.Replace(maskDet[i], mask[i], v)
		})
	} else {
		released = Apply(string(s.win[s.rel:cut]), mask, s.cfg.Style)
	}
	s.advance(cut)
	return released, out, nil
}

// runeStart moves cut back to the start of the UTF-8 sequence it falls in,
// but not before the released part.
func (s *Stream) runeStart(cut int) int {
	for cut > s.rel && cut < len(s.win) && !utf8.RuneStart(s.win[cut]) {
		cut--
	}
	return cut
}

// advance marks win[:cut] released and drops what the look-behind no longer
// needs.
func (s *Stream) advance(cut int) {
	s.rel = cut
	if s.buffer {
		return
	}
	drop := max(cut-s.look, 0)
	for drop > 0 && drop < len(s.win) && !utf8.RuneStart(s.win[drop]) {
		drop--
	}
	if drop == 0 {
		return
	}
	m := copy(s.win, s.win[drop:])
	s.win = s.win[:m]
	s.winBase += drop
	s.rel -= drop
}
