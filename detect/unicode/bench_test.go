package unicode

import (
	"context"
	"os"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

func BenchmarkDetect(b *testing.B) {
	d := newDetector(b, nil)
	for _, name := range []string{"prose_en.txt", "prose_mixed.txt"} {
		t, err := os.ReadFile("../textnorm/testdata/" + name)
		if err != nil {
			b.Fatal(err)
		}
		in := detect.Input{Text: string(t[:4096])}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in.Text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Detect(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
