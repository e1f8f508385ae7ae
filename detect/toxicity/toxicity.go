// Package toxicity detects toxic language — insults, threats, hate,
// sexual content, self-harm and profanity — with phrase lexicons in several
// languages and a trained hashed n-gram classifier (package classify),
// combined into one calibrated probability.
//
// It registers the detector type "toxicity" with detect.Default. Options:
//
//	threshold:  p        operating point on the calibrated probability
//	                     (default: the one chosen on the calibration split,
//	                     see Threshold)
//	categories: [names]  report lexicon matches only of these: insult,
//	                     threat, hate, sexual, self-harm, profanity
//	                     (default: all)
//	languages:  [codes]  use lexicon entries of these languages only, e.g.
//	                     [en, de] (default: all; see Languages)
//	classifier: bool     run the classifier (default true); false gives a
//	                     lexicon-only detector that is a detect.Spanner
//
// Hits. With the classifier, a text gets one "toxicity.classifier" hit
// covering the whole text and one hit per lexicon match (rule
// "toxicity.<category>") locating the evidence; every hit carries the
// text's calibrated probability
//
//	p = sigmoid(b + a·z + Σ_c w_c·[a phrase of category c matched])
//
// where z is the classifier's logit. The weights were fitted on a
// calibration split held out from the classifier's training data, so the
// text's score (the maximum over its hits) is p. Such a detector judges
// whole texts: it is not a Spanner (MaxSpan is 0), so a stream is checked
// once it has ended. Without the classifier, each match is scored on its
// own by a second small model fitted on the same split,
// p = sigmoid(b' + w'_c), and the detector is a Spanner with a bounded
// look-behind, so streamed answers are checked as they arrive.
//
// Matching is on whole words of the folded text (textnorm.Fold: NFKC,
// look-alike letters, invisible characters, leetspeak, lower case), with
// apostrophes inside words dropped and runs of single letters ("k y s",
// "f.u.c.k") rejoined, so substrings of innocent words never match (the
// Scunthorpe problem). Languages written without spaces between words (zh,
// ja, th) are not matched.
package toxicity

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "toxicity"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

var refs = finding.References{
	OWASP: []string{"LLM05:2025"},
	ATLAS: []string{"AML.T0048"},
}

var family = finding.Family{
	Name:        Type,
	Layer:       finding.LayerOutput,
	Remediation: "Block or regenerate the answer, or review the prompt; check whether the text quotes or reports abuse rather than uttering it.",
	References:  refs,
}

// The rules.
var (
	RuleInsult     = family.Rule("insult", "Insult", finding.Medium)
	RuleThreat     = family.Rule("threat", "Threat of violence", finding.High)
	RuleHate       = family.Rule("hate", "Hate speech", finding.High)
	RuleSexual     = family.Rule("sexual", "Sexual content", finding.Medium)
	RuleSelfHarm   = family.Rule("self-harm", "Self-harm", finding.High)
	RuleProfanity  = family.Rule("profanity", "Profanity", finding.Low)
	RuleClassifier = family.Rule("classifier", "Toxic text (classifier)", finding.Medium)
)

var catRules = [NumCategories]*finding.Rule{RuleInsult, RuleThreat, RuleHate, RuleSexual, RuleSelfHarm, RuleProfanity}

var catLabels = [NumCategories]string{"INSULT", "THREAT", "HATE", "SEXUAL", "SELF_HARM", "PROFANITY"}

// Label names the classifier's whole-text hit.
const Label = "TOXIC"

// Rules returns every rule of the family: the categories, then the
// classifier.
func Rules() []*finding.Rule {
	return append(catRules[:len(catRules):len(catRules)], RuleClassifier)
}

var (
	//go:embed lexicon/curated.tsv
	curatedTSV string
	//go:embed lexicon/profanity.tsv
	profanityTSV string
	//go:embed model.bin
	modelBin []byte
)

// CuratedTerms returns the embedded curated phrases (lexicon/curated.tsv).
func CuratedTerms() ([]Term, error) { return ParseTerms("curated.tsv", curatedTSV) }

// Terms returns the embedded lexicon: the curated phrases, then the
// profanity lists.
func Terms() ([]Term, error) {
	a, err := CuratedTerms()
	if err != nil {
		return nil, err
	}
	b, err := ParseTerms("profanity.tsv", profanityTSV)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

var embedded = sync.OnceValues(func() (*Model, error) {
	m, err := ParseModel(modelBin)
	if err != nil {
		return nil, fmt.Errorf("embedded model: %w", err)
	}
	return m, nil
})

var embeddedTerms = sync.OnceValues(Terms)

// DefaultModel returns the embedded trained model.
func DefaultModel() (*Model, error) { return embedded() }

// Languages lists the languages of the embedded lexicon, sorted.
func Languages() []string {
	terms, err := embeddedTerms()
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range terms {
		if !slices.Contains(out, t.Lang) {
			out = append(out, t.Lang)
		}
	}
	slices.Sort(out)
	return out
}

const (
	// span is how far past a match's start the lexicon reads to decide it:
	// the longest phrase or rejoined run of words, each a chunk of at most
	// maxChunk bytes after a gap of at most maxGap, plus one byte.
	span = max(maxWords, maxLetters)*(maxChunk+maxGap) + 1
	// lookBehind covers the chunk a match starts in, the gap and skipped
	// run before it, and the matches before it that could contain it.
	lookBehind = span + maxChunk + maxGap + 1
)

// Detector finds toxic language. It is safe for concurrent use.
type Detector struct {
	model      *Model
	lex        *Lexicon
	on         [NumCategories]bool
	classifier bool
	threshold  float64
}

var (
	_ detect.Detector     = (*Detector)(nil)
	_ detect.Spanner      = (*Detector)(nil)
	_ detect.LookBehinder = (*Detector)(nil)
	_ detect.Holder       = (*Detector)(nil)
)

// New builds a detector with the embedded model and lexicon from its
// options (see the package comment).
func New(opts map[string]any) (*Detector, error) {
	m, err := DefaultModel()
	if err != nil {
		return nil, err
	}
	terms, err := embeddedTerms()
	if err != nil {
		return nil, fmt.Errorf("embedded lexicon: %w", err)
	}
	return NewWith(m, terms, opts)
}

// NewWith builds a detector from a model, lexicon terms and options.
func NewWith(m *Model, terms []Term, opts map[string]any) (*Detector, error) {
	o := detect.Options(opts)
	if err := o.Check("threshold", "categories", "languages", "classifier"); err != nil {
		return nil, err
	}
	cats, err := o.Strings("categories")
	if err != nil {
		return nil, err
	}
	langs, err := o.Strings("languages")
	if err != nil {
		return nil, err
	}
	useClf, err := o.Bool("classifier", true)
	if err != nil {
		return nil, err
	}
	if m == nil || useClf && m.Classifier == nil {
		return nil, fmt.Errorf("toxicity: a model with a classifier is needed unless option \"classifier\" is false")
	}
	d := &Detector{model: m, classifier: useClf, threshold: m.Threshold}
	if !useClf {
		d.threshold = m.LexThreshold
	}
	if v, ok := o["threshold"]; ok && v != nil {
		t, ok := detect.Number(v)
		if !ok || !(t >= 0 && t <= 1) {
			return nil, fmt.Errorf("option \"threshold\": want a number in [0, 1], got %v", v)
		}
		d.threshold = t
	}
	if cats == nil {
		for i := range d.on {
			d.on[i] = true
		}
	}
	for _, n := range cats {
		c, ok := ParseCategory(strings.TrimPrefix(n, "toxicity."))
		if !ok {
			return nil, fmt.Errorf("option \"categories\": unknown category %q (known: %s)", n, strings.Join(categoryNames[:], ", "))
		}
		d.on[c] = true
	}
	var keep func(Term) bool
	if langs != nil {
		known := map[string]bool{}
		for _, t := range terms {
			known[t.Lang] = true
		}
		for _, l := range langs {
			if !known[l] {
				return nil, fmt.Errorf("option \"languages\": no lexicon for language %q", l)
			}
		}
		keep = func(t Term) bool { return slices.Contains(langs, t.Lang) }
	}
	d.lex = NewLexicon(terms, keep)
	return d, nil
}

// Name returns "toxicity".
func (d *Detector) Name() string { return Type }

// Threshold returns the operating point: a text is toxic when its score
// reaches it.
func (d *Detector) Threshold() float64 { return d.threshold }

// Rules lists the enabled rules.
func (d *Detector) Rules() []*finding.Rule {
	var out []*finding.Rule
	for c, r := range catRules {
		if d.on[c] {
			out = append(out, r)
		}
	}
	if d.classifier {
		out = append(out, RuleClassifier)
	}
	return out
}

// MaxSpan is 0 with the classifier, which judges whole texts; without it,
// it bounds how far past a match's start the lexicon reads.
func (d *Detector) MaxSpan() int {
	if d.classifier {
		return 0
	}
	return span
}

// LookBehind bounds the text before a match that its decision depends on.
func (d *Detector) LookBehind() int { return lookBehind }

// Hold returns the offset before which appending text changes no hit.
// The words of an unfinished last run of non-space bytes may still change
// (the run grows, or folds differently); a match is decided by at most
// max(maxWords, maxLetters) words from its first, so matches starting that
// many words before the unfinished run are final.
func (d *Detector) Hold(text string) int {
	if d.classifier {
		return 0
	}
	sc := pool.Get().(*scratch)
	defer pool.Put(sc)
	sc.tokenize(text)
	last := len(sc.toks) // index of the first word of the unfinished run
	if n := len(text); n > 0 {
		if sp, _ := spaceAt(text, lastRuneStart(text)); !sp {
			// The text ends inside a run: find where that run starts.
			rs := n
			for rs > 0 {
				k := lastRuneStart(text[:rs])
				if sp, _ := spaceAt(text, k); sp {
					break
				}
				rs = k
			}
			for last > 0 && int(sc.toks[last-1].end) > rs {
				last--
			}
		}
	}
	k := last - max(maxWords, maxLetters)
	if k <= 0 {
		return 0
	}
	return int(sc.toks[k].start)
}

// lastRuneStart returns the offset of the last rune of a non-empty s.
func lastRuneStart(s string) int {
	_, n := utf8.DecodeLastRuneInString(s)
	return len(s) - n
}

var pool = sync.Pool{New: func() any { return new(scratch) }}

// Detect returns the hits in in.Text ordered by Start, then End.
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	text := in.Text
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	sc := pool.Get().(*scratch)
	defer pool.Put(sc)
	sc.tokenize(text)
	d.lex.find(sc)
	if !d.classifier {
		var hits []detect.Hit
		for _, m := range sc.matches {
			for c := range NumCategories {
				if m.cats&(1<<c) != 0 && d.on[c] {
					hits = append(hits, detect.Hit{Rule: catRules[c], Start: m.start, End: m.end, Score: d.model.lexScore(c), Label: catLabels[c]})
				}
			}
		}
		return hits, nil
	}
	var all uint8
	for _, m := range sc.matches {
		all |= m.cats
	}
	var p float64
	if sc.latin >= sc.other {
		p = d.model.fullScore(d.model.Classifier.Logit(text), all)
	} else {
		// The classifier saw Latin-script text only: it is not asked about
		// text mostly in another script.
		p = d.model.lexOnly(all)
		if p == 0 {
			return nil, nil
		}
	}
	hits := make([]detect.Hit, 0, len(sc.matches)+1)
	whole := detect.Hit{Rule: RuleClassifier, Start: 0, End: len(text), Score: p, Label: Label}
	placed := false
	for _, m := range sc.matches {
		if !placed && m.start > 0 {
			hits = append(hits, whole)
			placed = true
		}
		for c := range NumCategories {
			if m.cats&(1<<c) != 0 && d.on[c] {
				hits = append(hits, detect.Hit{Rule: catRules[c], Start: m.start, End: m.end, Score: p, Label: catLabels[c]})
			}
		}
	}
	if !placed {
		hits = append(hits, whole)
	}
	return hits, nil
}

// Evidence is what the detector saw in a text, for training and
// evaluation: the classifier's logit, the categories matched and whether
// the text is mostly in the Latin script (the classifier judges only such
// texts; others are scored by the lexicon model alone).
type Evidence struct {
	Logit float64
	Cats  uint8
	Latin bool
}

// Evidence returns the classifier logit (0 without a classifier) and the
// matched categories of text, whatever the categories option.
func (d *Detector) Evidence(text string) Evidence {
	sc := pool.Get().(*scratch)
	defer pool.Put(sc)
	sc.tokenize(text)
	d.lex.find(sc)
	e := Evidence{Latin: sc.latin >= sc.other}
	for _, m := range sc.matches {
		e.Cats |= m.cats
	}
	if d.model != nil && d.model.Classifier != nil {
		e.Logit = d.model.Classifier.Logit(text)
	}
	return e
}
