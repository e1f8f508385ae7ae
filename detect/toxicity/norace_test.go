//go:build !race

package toxicity

const raceEnabled = false
