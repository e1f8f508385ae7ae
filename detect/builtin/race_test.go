//go:build race

package builtin_test

// raceEnabled reports a -race build, whose timings mean nothing.
const raceEnabled = true
