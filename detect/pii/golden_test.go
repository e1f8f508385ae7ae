package pii

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
	"github.com/rampartsec/rampart/detect/pii/piitest"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
)

// goldenDigest is the SHA-256 of the output dump goldenDump writes: every
// hit (rule, label, span, score) of Detect and every Hold offset, for
// several option sets, on the package's test data, the default-input
// workload of detect/builtin, the benchmark texts and random texts. It was
// computed on the code before the scanner was made faster (with the year
// taken as 2026), and pins the detector's behaviour byte for byte. A
// change that is meant to change the output updates it; to see what
// changed, write the dump before and after with
//
//	PII_GOLDEN_DUMP=/tmp/before.txt go test -run TestGoldenOutput ./detect/pii
//
// and diff the two files.
const goldenDigest = "19f20551e2b3f36f6233b4ec454b62bd9b5431894d7ba77cc1e69cde345eca65"

// TestGoldenOutput compares the detector's output on a fixed set of texts
// with goldenDigest. It takes seconds, and minutes under the race
// detector, so it is skipped with -short and -race.
func TestGoldenOutput(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("skipped with -short and -race")
	}
	// Birth years are bounded by the current year; the digest was
	// computed in 2026.
	defer func(y int) { thisYear = y }(thisYear)
	thisYear = 2026
	h := sha256.New()
	var w io.Writer = h
	if p := os.Getenv("PII_GOLDEN_DUMP"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		w = io.MultiWriter(h, bw)
	}
	goldenDump(t, w)
	if got := hex.EncodeToString(h.Sum(nil)); got != goldenDigest {
		t.Errorf("output digest %s, want %s: the detector's output changed (see the goldenDigest comment)", got, goldenDigest)
	}
}

// goldenTexts returns the texts of the golden comparison, by corpus.
func goldenTexts(t *testing.T) [][]string {
	t.Helper()
	var marked []string
	for _, l := range readLines(t, "testdata/positives.txt") {
		_, m, _ := strings.Cut(l, "\t")
		text, _ := parseMarked(m)
		marked = append(marked, text)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var random []string
	for i := 0; i < 1500; i++ {
		random = append(random, randomText(r, piitest.New(uint64(i))))
	}
	// Random bytes around the classes the scanner tells apart, invalid
	// UTF-8 among them.
	atoms := []string{"a", "Z", "J", "0", "7", "9", " ", "\n", "\t", ".", ",", "-", "/", "(", ")", "+", "@", ":", "'", "\"", ">", "#",
		"é", "É", "ß", "Ж", "ж", "中", "🎉", "\x80", "\xc3", "\xe4\xb8", "\xff", "Mr. ", "Dr", "born ", "Straße", "rue ", "ext",
		"Anna", "John", "Smith", "SSN", "card", "DE", "GB", "X", "my name is "}
	var noise []string
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		for n := r.IntN(60); n > 0; n-- {
			b.WriteString(atoms[r.IntN(len(atoms))])
		}
		noise = append(noise, b.String())
	}
	return [][]string{
		detecttest.Texts(t, "testdata/dev.jsonl"),
		detecttest.Texts(t, "../builtin/testdata/mixed-4k.jsonl"),
		detecttest.Texts(t, "testdata/validatorjs-cards-iban.jsonl"),
		detecttest.Texts(t, "testdata/validatorjs-ids.jsonl"),
		marked,
		readLines(t, "testdata/negatives.txt"),
		{mixedProse(), mixedPrompt(), secretstest.CleanText(8 << 10), prose},
		random,
		noise,
	}
}

// goldenDump writes the detector's output on goldenTexts to w: for the
// default options, the hits of Detect on each text, on each prefix and
// suffix at detecttest.Cuts, and Hold at each cut; for the other option
// sets, the hits on each text and Hold at each cut.
func goldenDump(t *testing.T, w io.Writer) {
	corpora := goldenTexts(t)
	ctx := context.Background()
	hits := func(d *Detector, text string) {
		hs, err := d.Detect(ctx, detect.Input{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			fmt.Fprintf(w, " %s/%s/%d-%d/%v", h.Rule.ID, h.Label, h.Start, h.End, h.Score)
		}
		fmt.Fprintln(w)
	}
	for oi, opts := range []map[string]any{
		nil,
		{"regions": []any{"US", "GB"}, "include_private_ip": true},
		{"entities": []any{"person"}},
		{"entities": []any{"credit_card", "email", "phone_number"}},
		{"entities": []any{"date_of_birth", "street_address"}},
		{"entities": []any{"national_id", "passport", "iban", "us_ssn", "ip_address"}},
	} {
		d, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		for ci, texts := range corpora {
			for ti, text := range texts {
				fmt.Fprintf(w, "%d %d %d:", oi, ci, ti)
				hits(d, text)
				for _, k := range detecttest.Cuts(text) {
					fmt.Fprintf(w, " H%d=%d", k, d.Hold(text[:k]))
					if oi == 0 {
						fmt.Fprintf(w, " P%d:", k)
						hits(d, text[:k])
						fmt.Fprintf(w, " S%d:", k)
						hits(d, text[k:])
					}
				}
				fmt.Fprintln(w)
			}
		}
	}
}
