package unicode

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
)

// BenchmarkMixed4K runs Detect over the sixteen 4 KiB mixed prompts the
// default-input speed test uses.
func BenchmarkMixed4K(b *testing.B) {
	d := newDetector(b, nil)
	prompts := detecttest.Texts(b, "../builtin/testdata/mixed-4k.jsonl")
	n := 0
	for _, p := range prompts {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		for _, p := range prompts {
			if _, err := d.Detect(ctx, detect.Input{Text: p}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkASCII4K runs Detect over 4 KiB of ASCII text.
func BenchmarkASCII4K(b *testing.B) {
	d := newDetector(b, nil)
	t, err := os.ReadFile("../textnorm/testdata/prose_en.txt")
	if err != nil {
		b.Fatal(err)
	}
	s := []byte(string(t))
	for i := range s {
		if s[i] >= 0x80 {
			s[i] = ' '
		}
	}
	in := detect.Input{Text: string(s[:4096])}
	b.SetBytes(4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Detect(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMixed4KNoAllocs checks that Detect allocates nothing on prompts
// without hits.
func TestMixed4KNoAllocs(t *testing.T) {
	d := newDetector(t, nil)
	ctx := context.Background()
	for i, p := range detecttest.Texts(t, "../builtin/testdata/mixed-4k.jsonl") {
		in := detect.Input{Text: p}
		hits, _ := d.Detect(ctx, in)
		if len(hits) > 0 {
			continue
		}
		if a := testing.AllocsPerRun(20, func() { _, _ = d.Detect(ctx, in) }); a != 0 {
			t.Errorf("prompt %d: %v allocations per call", i, a)
		}
	}
}

var updateGolden = flag.Bool("unicode.update-golden", false, "rewrite testdata/golden-hits.txt")

// goldenRunes are the characters the random texts of TestGoldenHits are
// made of: ASCII, Latin, Cyrillic, Greek and other scripts' letters,
// look-alikes, marks, invisible characters, emoji and line breaks.
var goldenRunes = []rune(" \n\t.,-'aAoOpePcxyйаеорсхуАВЕКМНОРСТХαοιρνΑΒΕΖΗΙΚΜΝΟΡΤΥΧéüßøłİıǅ" +
	"ａｐｙ𝐚𝐩ԁһіјԛԝѕաոսꓮꓐᎪᏴⲞⲟ中文ひらがなカタカナ한국어ةعربي" +
	"עבריתสวัสดีकष्ःंँ\u0301\u0308\u0327\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202e\u2066\u2069" +
	"\ufe0f\ufe00\U000E0100\U000E0041\U000E0067\U000E007F\U0001F3F4\u00ad\u034f\u3164\u115f\u17b4" +
	"👨👩❤🔥☀0123456789")

// goldenTexts returns the dev-set texts, the mixed prompts and seeded
// random mixed-script strings.
func goldenTexts(tb testing.TB) []string {
	texts := detecttest.Texts(tb, "testdata/dev.jsonl")
	texts = append(texts, detecttest.Texts(tb, "../builtin/testdata/mixed-4k.jsonl")...)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4000 {
		n := 1 + rng.IntN(60)
		var b strings.Builder
		for range n {
			switch rng.IntN(24) {
			case 0: // a stray byte: invalid UTF-8 or a cut character
				b.WriteByte([]byte{0x80, 0x8f, 0xa0, 0xbf, 0xc2, 0xcd, 0xd0, 0xd8, 0xe0, 0xe1, 0xe2, 0xef, 0xf0, 0xf3, 0xff}[rng.IntN(15)])
			case 1, 2, 3, 4, 5, 6: // an ASCII word
				for range 1 + rng.IntN(6) {
					b.WriteByte(byte('a' + rng.IntN(26)))
				}
			default:
				b.WriteRune(goldenRunes[rng.IntN(len(goldenRunes))])
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}

// TestGoldenHits compares Detect's hits on the dev set, the mixed prompts
// and random mixed-script strings with testdata/golden-hits.txt, written
// by the implementation before the fast path (-unicode.update-golden).
func TestGoldenHits(t *testing.T) {
	d := newDetector(t, nil)
	var out strings.Builder
	for i, s := range goldenTexts(t) {
		hits, err := d.Detect(context.Background(), detect.Input{Text: s})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(s))
		fmt.Fprintf(&out, "%d %x", i, h[:6])
		for _, x := range hits {
			fmt.Fprintf(&out, " %s:%d-%d:%g", x.Rule.ID[len("unicode."):], x.Start, x.End, x.Score)
		}
		fmt.Fprintf(&out, " hold=%d\n", d.Hold(s))
	}
	const path = "testdata/golden-hits.txt"
	if *updateGolden {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(out.String(), "\n")
	wl := strings.Split(string(want), "\n")
	if len(got) != len(wl) {
		t.Fatalf("%d lines, want %d", len(got), len(wl))
	}
	bad := 0
	for i := range got {
		if got[i] != wl[i] {
			t.Errorf("got  %s\nwant %s", got[i], wl[i])
			if bad++; bad > 20 {
				t.Fatal("too many differences")
			}
		}
	}
}
