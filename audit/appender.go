package audit

import "context"

// Appender takes audit records. Writer (a transaction per batch, durable
// when Append returns) and Journal (a local append-only file shipped to the
// store in the background) both implement it, so the gateway can use
// either.
type Appender interface {
	// Append stores rec; when it returns nil the record survives a crash
	// of the process (and, for a Writer or a Journal with Fsync, of the
	// machine).
	Append(ctx context.Context, rec Record) error
}

var (
	_ Appender = (*Writer)(nil)
	_ Appender = (*Journal)(nil)
)
