package pii

import (
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
)

// The streaming contract is checked by detect/detecttest, shared with the
// other detector packages.

type streamable = detecttest.Streamable

func mustDetect(t testing.TB, d detect.Detector, text string) []detect.Hit {
	t.Helper()
	return detecttest.Detect(t, d, text)
}

func checkContract(t testing.TB, d streamable, text string, cuts []int) {
	t.Helper()
	detecttest.Contract(t, d, text, cuts)
}

func cutsFor(text string) []int { return detecttest.Cuts(text) }

func keep(hs []detect.Hit, f func(detect.Hit) bool) []detect.Hit { return detecttest.Keep(hs, f) }
