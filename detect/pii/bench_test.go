package pii

import (
	"context"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
)

// mixedPrompt is a 4 KiB prompt: English prose, a little code, an e-mail
// address and a phone number.
func mixedPrompt() string {
	code := "\n```go\nfunc handler(w http.ResponseWriter, r *http.Request) {\n\tid := r.URL.Query().Get(\"id\")\n\tfor i := 0; i < 10; i++ {\n\t\tlog.Printf(\"retry %d of %s\", i, id)\n\t}\n}\n```\n"
	prose := secretstest.CleanText(4096)
	var b strings.Builder
	b.WriteString(prose[:1200])
	b.WriteString(" Please reply to jane.doe@example.com when you can. ")
	b.WriteString(code)
	b.WriteString(prose[1200:2400])
	b.WriteString(" You can call me on +44 20 7946 0958 after six. ")
	b.WriteString(prose[2400:])
	return b.String()[:4096]
}

// BenchmarkMixed4K runs the detector with its defaults on a mixed 4 KiB
// prompt.
func BenchmarkMixed4K(b *testing.B) {
	d, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	text := mixedPrompt()
	in := detect.Input{Text: text}
	ctx := context.Background()
	if _, err := d.Detect(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Detect(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
