package audit

import "time"

// SetTailPoll changes how often Tail polls, for tests; it returns a
// function that restores the previous interval.
func SetTailPoll(d time.Duration) (restore func()) {
	old := tailPoll
	tailPoll = d
	return func() { tailPoll = old }
}
