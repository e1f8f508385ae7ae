package evidence

import "github.com/rampartsec/rampart/classify"

// Pipeline is the whole scoring of one text: classifier, rules, combiner,
// and the same again on decoded payloads. It is immutable and safe for
// concurrent use.
type Pipeline struct {
	Model    *classify.Model
	Scanner  *Scanner
	Combiner Combiner
	// Trained is Combiner.TrainedScripts(), kept ready.
	Trained Scripts
}

// Source of a decision's strongest evidence.
const (
	FromClassifier = -1 // no rule: the classifier alone
	FromEncoded    = -2 // a decoded payload (base64, hex, percent, tags…)
)

// Decision is the pipeline's verdict on one text.
type Decision struct {
	Score float64
	// From is the category of the strongest evidence, FromClassifier or
	// FromEncoded.
	From       int
	Start, End int // byte span of that evidence in the text
}

// Score runs the pipeline on text. indirect treats the text as data
// (document, tool output).
func (p *Pipeline) Score(text string, indirect bool, sc *Scratch) Decision {
	v, r := Analyze(p.Model, p.Scanner, text, indirect, p.Trained, sc)
	d := Decision{Score: p.Combiner.Score(v), From: FromClassifier, End: len(text)}
	best := 0.0
	for c := range NumCategories {
		if r.Found[c] {
			if w := p.Combiner.Strength(c); w > best {
				best, d.From, d.Start, d.End = w, int(c), r.Span[c][0], r.Span[c][1]
			}
		}
	}
	// Evidence found only in the joined view (s p l i t letters) is
	// reported as obfuscation.
	if d.From >= 0 && Category(d.From) != Obfuscated && r.Found[Obfuscated] && r.Span[Obfuscated] == r.Span[d.From] {
		d.From = int(Obfuscated)
	}
	if sc.sub == nil {
		sc.sub = new(Scratch)
	}
	for _, pl := range Payloads(text) {
		inner, _ := Analyze(p.Model, p.Scanner, pl.Text, indirect, p.Trained, sc.sub)
		if s := p.Combiner.Score(inner); s > d.Score {
			d = Decision{Score: s, From: FromEncoded, Start: pl.Start, End: pl.End}
		}
	}
	return d
}
