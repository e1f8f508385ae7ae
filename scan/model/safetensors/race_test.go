//go:build race

package safetensors

// raceEnabled reports a -race build, which multiplies CPU costs.
const raceEnabled = true
