package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errShort marks a read past the end of the file.
var errShort = errors.New("gguf: past end of file")

// cursor reads the header sequentially through a window buffer. The first
// error sticks: later reads return zeros.
type cursor struct {
	r     io.ReaderAt
	size  int64
	off   int64
	order binary.ByteOrder
	v1    bool // version 1: 32-bit counts and lengths

	win    []byte
	winOff int64
	err    error
}

const window = 64 << 10

func newCursor(r io.ReaderAt, size int64) *cursor {
	return &cursor{r: r, size: size, order: binary.LittleEndian}
}

func (c *cursor) fail() {
	if c.err == nil {
		c.err = errShort
	}
}

// bytes returns the next n bytes (valid until the next read), or nil
// after an error.
func (c *cursor) bytes(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || int64(n) > c.size-c.off {
		c.fail()
		return nil
	}
	// Inside the window?
	if c.off >= c.winOff && c.off+int64(n) <= c.winOff+int64(len(c.win)) {
		b := c.win[c.off-c.winOff : c.off-c.winOff+int64(n)]
		c.off += int64(n)
		return b
	}
	if n > window {
		b := make([]byte, n)
		if err := c.readAt(b, c.off); err != nil {
			return nil
		}
		c.off += int64(n)
		return b
	}
	m := min(int64(window), c.size-c.off)
	if int64(cap(c.win)) < m {
		c.win = make([]byte, m)
	}
	c.win = c.win[:m]
	if err := c.readAt(c.win, c.off); err != nil {
		c.win = c.win[:0]
		return nil
	}
	c.winOff = c.off
	c.off += int64(n)
	return c.win[:n]
}

func (c *cursor) readAt(b []byte, off int64) error {
	m, err := c.r.ReadAt(b, off)
	if m == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		c.err = errShort
	} else {
		c.err = fmt.Errorf("gguf: reading %d bytes at offset %d: %w", len(b), off, err)
	}
	return c.err
}

// skip advances n bytes without reading them.
func (c *cursor) skip(n uint64) {
	if c.err != nil {
		return
	}
	if n > uint64(c.size-c.off) {
		c.fail()
		return
	}
	c.off += int64(n)
}

func (c *cursor) u8() uint8 {
	if b := c.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if b := c.bytes(2); b != nil {
		return c.order.Uint16(b)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if b := c.bytes(4); b != nil {
		return c.order.Uint32(b)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if b := c.bytes(8); b != nil {
		return c.order.Uint64(b)
	}
	return 0
}

// count reads a count or length: 32 bits in version 1, 64 after.
func (c *cursor) count() uint64 {
	if c.v1 {
		return uint64(c.u32())
	}
	return c.u64()
}

// lenSize is the size of a length field.
func (c *cursor) lenSize() int64 {
	if c.v1 {
		return 4
	}
	return 8
}
