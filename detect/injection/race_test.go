//go:build race

package injection

// raceEnabled: the race detector makes sync.Pool drop items and allocates,
// so allocation counts are not checked under it.
const raceEnabled = true
