package server

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers the process log so that a request's log line does not
// cost a system call: it writes out when the buffer fills, every interval,
// at once for lines the caller marks urgent, and on Close. A line is at
// most one interval late; the audit log, not this one, is the durable
// record of requests.
type logWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	done chan struct{}
	wg   sync.WaitGroup
}

// newLogWriter buffers out and writes it out at least every interval.
func newLogWriter(out io.Writer, interval time.Duration) *logWriter {
	l := &logWriter{w: bufio.NewWriterSize(out, 64<<10), done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.Flush()
			case <-l.done:
				return
			}
		}
	}()
	return l
}

// Write buffers p (one log line from a slog handler).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Flush writes out what is buffered.
func (l *logWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.w.Flush()
}

// Close stops the background flushing and writes out what is left.
func (l *logWriter) Close() {
	close(l.done)
	l.wg.Wait()
	l.Flush()
}
