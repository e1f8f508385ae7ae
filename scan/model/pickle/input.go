package pickle

import (
	"bytes"
	"errors"
	"io"
)

// input is a forward-only buffered reader that knows the stream offset of
// every byte, skips without copying more than one buffer, and can be
// fenced at an offset (reads past the fence behave like end of input).
type input struct {
	r     io.Reader
	buf   []byte
	pos   int   // next unread byte in buf
	end   int   // end of valid bytes in buf
	lim   int   // end of readable bytes: end, or the fence if it is nearer
	base  int64 // stream offset of buf[0]
	fence int64 // reads stop here; -1 for none
	eof   bool  // r is exhausted
	err   error // first read error other than io.EOF
}

// offset returns the stream offset of the next unread byte.
func (in *input) offset() int64 { return in.base + int64(in.pos) }

// clip recomputes lim after end, base or fence changed.
func (in *input) clip() {
	in.lim = in.end
	if in.fence >= 0 {
		if f := in.fence - in.base; f < int64(in.lim) {
			in.lim = int(max(f, int64(in.pos)))
		}
	}
}

// setFence fences reads at offset f (-1 removes the fence).
func (in *input) setFence(f int64) {
	in.fence = f
	in.clip()
}

// fill tries to make n bytes available (n <= len(buf)); it reports
// whether it did.
func (in *input) fill(n int) bool {
	if in.lim-in.pos >= n {
		return true
	}
	target := n
	if in.fence >= 0 {
		if left := in.fence - in.offset(); left < int64(target) {
			target = int(max(left, 0))
		}
	}
	if in.pos > 0 {
		copy(in.buf, in.buf[in.pos:in.end])
		in.base += int64(in.pos)
		in.end -= in.pos
		in.pos = 0
	}
	for zero := 0; in.end-in.pos < target && !in.eof && in.err == nil; {
		k, err := in.r.Read(in.buf[in.end:])
		in.end += k
		switch {
		case errors.Is(err, io.EOF):
			in.eof = true
		case err != nil:
			in.err = err
		case k == 0:
			if zero++; zero > 100 {
				in.err = io.ErrNoProgress
			}
		default:
			zero = 0
		}
	}
	in.clip()
	return in.lim-in.pos >= n
}

// peekByte returns the next byte without consuming it.
func (in *input) peekByte() (byte, bool) {
	if in.pos >= in.lim && !in.fill(1) {
		return 0, false
	}
	return in.buf[in.pos], true
}

// next returns the next n bytes (n <= len(buf)); the slice is valid until
// the next call.
func (in *input) next(n int) ([]byte, bool) {
	if in.lim-in.pos < n && !in.fill(n) {
		return nil, false
	}
	b := in.buf[in.pos : in.pos+n]
	in.pos += n
	return b, true
}

// skip discards n bytes; it reports whether all of them were there.
func (in *input) skip(n int64) bool {
	for n > 0 {
		a := in.lim - in.pos
		if a == 0 {
			if !in.fill(1) {
				return false
			}
			continue
		}
		k := int(min(int64(a), n))
		in.pos += k
		n -= int64(k)
	}
	return true
}

// line reads up to and including the next '\n' and returns the bytes
// before it. A line longer than max is consumed to its end (or the end of
// input) and reported as long with a nil slice; ok is false when the
// input ends before a newline.
func (in *input) line(max int) (b []byte, long, ok bool) {
	if max > len(in.buf)-1 {
		max = len(in.buf) - 1
	}
	scanned := 0
	for {
		if i := bytes.IndexByte(in.buf[in.pos+scanned:in.lim], '\n'); i >= 0 {
			n := scanned + i
			if n > max {
				in.pos += n + 1
				return nil, true, true
			}
			b = in.buf[in.pos : in.pos+n]
			in.pos += n + 1
			return b, false, true
		}
		scanned = in.lim - in.pos
		if scanned > max {
			// Too long: discard what is buffered and look for the end.
			return nil, true, in.skipLine()
		}
		if !in.fill(scanned + 1) {
			in.pos = in.lim
			return nil, false, false
		}
	}
}

// skipLine discards bytes up to and including the next '\n'.
func (in *input) skipLine() bool {
	for {
		if i := bytes.IndexByte(in.buf[in.pos:in.lim], '\n'); i >= 0 {
			in.pos += i + 1
			return true
		}
		in.pos = in.lim
		if !in.fill(1) {
			return false
		}
	}
}
