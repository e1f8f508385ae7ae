//go:build race

package tokens

// raceEnabled reports a -race build, where sync.Pool drops items at random,
// so pooled memory is allocated again.
const raceEnabled = true
