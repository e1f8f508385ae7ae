package tokens

import (
	"os"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/cputime"
	"github.com/tiktoken-go/tokenizer"
)

// TestThroughputCPUTime measures what BenchmarkCount measures, but in CPU
// time of the benchmarking thread instead of wall time, which on a shared,
// overloaded machine is far steadier: time spent descheduled isn't counted.
// It reports the median of 15 rounds. Run it with
//
//	TOKENS_CPUTIME=1 go test -run TestThroughputCPUTime -v ./tokens
//
// or with TOKENS_CPUTIME=noref to leave out the reference.
func TestThroughputCPUTime(t *testing.T) {
	if os.Getenv("TOKENS_CPUTIME") == "" {
		t.Skip("set TOKENS_CPUTIME=1 to run")
	}
	if !cputime.Supported() {
		t.Skip("thread CPU time is not available on this platform")
	}
	median, mbps := cputime.Median, cputime.MBps
	b := &testing.B{}
	texts := benchTexts(b)
	for _, r := range refs {
		if err := r.enc.Load(); err != nil {
			t.Fatal(err)
		}
		ref, err := tokenizer.Get(tokenizer.Encoding(r.enc.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range texts {
			ours := median(func() { r.enc.Count(tt.text) })
			nocache := median(func() { countNoCache(r.enc, tt.text) })
			theirs := time.Duration(1)
			if os.Getenv("TOKENS_CPUTIME") != "noref" {
				theirs = median(func() {
					if _, err := ref.Count(tt.text); err != nil {
						t.Fatal(err)
					}
				})
			}
			t.Logf("%-11s %-16s tokens %8v (%6.1f MB/s)  no cache %8v (%6.1f MB/s)  reference %9v (%5.1f MB/s)  speed-up %5.1fx",
				r.enc.Name(), tt.name, ours, mbps(len(tt.text), ours), nocache, mbps(len(tt.text), nocache),
				theirs, mbps(len(tt.text), theirs), float64(theirs)/float64(ours))
		}
	}
}
