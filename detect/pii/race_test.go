//go:build race

package pii

// raceEnabled reports a -race build, which runs TestGoldenOutput too slowly
// to be worth it.
const raceEnabled = true
