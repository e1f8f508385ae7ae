package pii

import (
	"context"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
)

// prose is ordinary English prose with few numbers, as most prompts are.
const prose = `I have been trying to put together a short guide for the new members of our team, and I would like your help to make it clearer and friendlier. ` +
	`The guide explains how we plan our work, how we review each other's changes, and what we expect before something goes out to customers. ` +
	`At the moment it reads like a list of rules, and several people told me it feels cold and a little intimidating. ` +
	`Could you rewrite the introduction so that it welcomes people, explains why the process exists, and points them to the person they can ask when they are stuck? ` +
	`Please keep the tone warm but professional, avoid jargon where a plain word will do, and keep each paragraph short enough to read on a phone. ` +
	`We usually meet on Monday mornings to agree on the priorities for the week, and on Thursday afternoons we look back at what went well and what did not. ` +
	`Reviews should be kind and specific: say what you would change and why, and remember that the author has probably thought about the problem longer than you have. ` +
	`When a change touches the billing code or anything that handles personal data, a second reviewer from the platform group has to approve it as well. ` +
	`If something breaks in production, the first goal is to stop the damage, the second is to tell the people affected, and only then do we look for the cause. ` +
	`After every incident we write a short note that describes what happened without blaming anyone, and we keep those notes in the shared folder so that others can learn from them. ` +
	`I would also like a closing paragraph that thanks people for joining and reminds them that nobody expects them to know everything in their first month. ` +
	`Finally, suggest three questions a new colleague might ask in their first week, with a one-sentence answer to each, so that we can add a small FAQ at the end. `

// mixedProse is a 4 KiB prompt of English prose with a little code, an
// e-mail address and a phone number.
func mixedProse() string {
	code := "\n```python\ndef review(change):\n    if change.touches_billing:\n        return require_second_reviewer(change)\n    return approve(change)\n```\n"
	var b strings.Builder
	b.WriteString(prose[:900])
	b.WriteString(" You can write to me at jane.doe@example.com if anything is unclear. ")
	b.WriteString(code)
	b.WriteString(prose[900:])
	b.WriteString(" Or call me on +44 20 7946 0958 in the afternoon. ")
	for b.Len() < 4096 {
		b.WriteString(prose)
	}
	return b.String()[:4096]
}

// BenchmarkProse4K runs the detector with its defaults on a 4 KiB prompt
// of prose with a little code, an e-mail address and a phone number.
func BenchmarkProse4K(b *testing.B) {
	benchDefaults(b, mixedProse())
}

// mixedPrompt is a 4 KiB prompt dense with numbers (versions, amounts,
// dates, identifiers: secretstest.CleanText), a little code, an e-mail
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
	benchDefaults(b, mixedPrompt())
}

// benchDefaults runs the detector with its defaults on text, after one
// untimed call.
func benchDefaults(b *testing.B, text string) {
	d, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
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
