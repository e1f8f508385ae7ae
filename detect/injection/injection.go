// Package injection detects prompt injection and jailbreak attempts in
// prompts and, in indirect mode, instructions addressed to the model inside
// data (retrieved documents, tool results, e-mails, web pages).
//
// Every text gets one calibrated score from three kinds of evidence: a
// hashed character and word n-gram logistic-regression classifier (package
// classify; the model is trained by `go run ./detect/injection/train` from
// Rampart's shared datasets and embedded in the binary), multilingual phrase
// rules (English, German, French, Spanish, Portuguese, Italian, Russian,
// Chinese, Japanese, Arabic and Hindi) matched on the folded view of the
// text (detect/textnorm: NFKC, case, invisible characters, confusables,
// leetspeak) and on its joined view (s p l i t letters), and the same again
// on embedded base64, hex, percent-encoded and tag-character payloads. A small logistic combiner fitted on a
// held-out calibration part turns the classifier's logits and the rule
// evidence into the score.
//
// It registers the detector type "injection" with detect.Default. Options:
//
//	threshold: number    operating point (default: the calibrated one,
//	                     Threshold())
//	mode:      direct | indirect | auto
//	                     indirect also counts requests about the answer
//	                     ("in your response…") as evidence; auto (default)
//	                     is indirect for roles document and tool
//	external:            an external guard model served like Hugging Face
//	                     text-embeddings-inference's /predict:
//	  url:     string    the endpoint, e.g. http://guard:8080/predict
//	  timeout: duration  e.g. 300ms (default 1s)
//	  fail:    open | closed
//	                     on an error or timeout, open scores with the
//	                     built-in evidence alone, closed returns the error
//	                     (so the policy fails closed); default closed
//	  weight:  number    0..1, the external model's share of the combined
//	                     logit (default 0.5)
//	  labels:  [names]   labels that mean injection (default: any label
//	                     containing "inject", "jailbreak", "unsafe" or
//	                     "malicious", or LABEL_1)
//
// Each text gets at most one hit: its rule is the strongest evidence, its
// span the matched phrase (or the decoded payload's run, or the whole text
// when only the classifier spoke), its score the combined score. Hits below
// 0.1 (or the threshold, if lower) are not reported.
package injection

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/injection/internal/evidence"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "injection"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

var (
	//go:embed model.bin
	modelBin []byte
	//go:embed combiner.json
	combinerJSON []byte
)

var refs = finding.References{
	OWASP: []string{"LLM01:2025"},
	ATLAS: []string{"AML.T0051"},
	CWE:   []string{"CWE-77"},
}

var family = finding.Family{
	Name:        Type,
	Layer:       finding.LayerInferenceAPI,
	Remediation: "Do not pass the text to the model as instructions: block it, or keep it clearly delimited as untrusted data and strip the instructions it carries.",
	References:  refs,
}

// The rules.
var (
	RuleOverride     = family.Rule("override-instructions", "Instruction override", finding.High)
	RuleRoleHijack   = family.Rule("role-hijack", "Role or system-message hijack", finding.High)
	RuleExtraction   = family.Rule("prompt-extraction", "System prompt or secret extraction", finding.High)
	RulePersona      = family.Rule("jailbreak-persona", "Jailbreak persona or mode", finding.High)
	RuleIndirect     = family.Rule("indirect-instructions", "Instructions addressed to the model inside data", finding.High)
	RuleObfuscated   = family.Rule("obfuscated-instructions", "Obfuscated injection phrase", finding.High)
	RuleEncoded      = family.Rule("encoded-payload", "Injection in an encoded payload", finding.High)
	RuleClassifier   = family.Rule("classifier", "Prompt injection or jailbreak (classifier)", finding.High)
	RuleExternal     = family.Rule("external-classifier", "Prompt injection or jailbreak (external model)", finding.High)
	rulesByCategory  = [evidence.NumCategories]*finding.Rule{RuleOverride, RuleRoleHijack, RuleExtraction, RulePersona, RuleIndirect, RuleIndirect, RuleIndirect, RuleObfuscated}
	allRules         = []*finding.Rule{RuleOverride, RuleRoleHijack, RuleExtraction, RulePersona, RuleIndirect, RuleObfuscated, RuleEncoded, RuleClassifier, RuleExternal}
	defaultPipeline  *evidence.Pipeline
	defaultPipeErr   error
	defaultPipelineO sync.Once
)

// pipeline loads the embedded model once.
func pipeline() (*evidence.Pipeline, error) {
	defaultPipelineO.Do(func() {
		m, err := classify.Parse(modelBin)
		if err != nil {
			defaultPipeErr = fmt.Errorf("injection: embedded model: %w", err)
			return
		}
		var c evidence.Combiner
		if err := json.Unmarshal(combinerJSON, &c); err != nil {
			defaultPipeErr = fmt.Errorf("injection: embedded combiner: %w", err)
			return
		}
		if err := c.Check(); err != nil {
			defaultPipeErr = fmt.Errorf("injection: embedded combiner: %w", err)
			return
		}
		defaultPipeline = &evidence.Pipeline{Model: m, Scanner: evidence.NewScanner(), Combiner: c, Trained: c.TrainedScripts()}
	})
	return defaultPipeline, defaultPipeErr
}

// Mode says whether texts are treated as prompts or as data.
type Mode string

// The modes.
const (
	ModeDirect   Mode = "direct"
	ModeIndirect Mode = "indirect"
	ModeAuto     Mode = "auto"
)

// Detector is the injection detector. It is safe for concurrent use.
type Detector struct {
	p         *evidence.Pipeline
	threshold float64
	mode      Mode
	ext       *external
	scratch   sync.Pool
}

// New builds a detector from its options (see the package documentation).
func New(opts map[string]any) (*Detector, error) {
	o := detect.Options(opts)
	if err := o.Check("threshold", "mode", "external"); err != nil {
		return nil, err
	}
	p, err := pipeline()
	if err != nil {
		return nil, err
	}
	d := &Detector{p: p, threshold: p.Combiner.Threshold, mode: ModeAuto}
	d.scratch.New = func() any { return new(evidence.Scratch) }
	if _, ok := o["threshold"]; ok {
		t, err := float(o, "threshold")
		if err != nil {
			return nil, err
		}
		if !(t >= 0 && t <= 1) {
			return nil, fmt.Errorf("option %q: %v outside [0, 1]", "threshold", t)
		}
		d.threshold = t
	}
	if v, ok := o["mode"]; ok && v != nil {
		s, ok := v.(string)
		switch Mode(s) {
		case ModeDirect, ModeIndirect, ModeAuto:
			d.mode = Mode(s)
		default:
			_ = ok
			return nil, fmt.Errorf("option %q: %v is not direct, indirect or auto", "mode", v)
		}
	}
	if v, ok := o["external"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("option %q is %T, want a mapping", "external", v)
		}
		e, err := newExternal(detect.Options(m))
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", "external", err)
		}
		d.ext = e
	}
	return d, nil
}

func float(o detect.Options, key string) (float64, error) {
	switch v := o[key].(type) {
	case float64:
		return v, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case uint64:
		return float64(v), nil
	}
	return 0, fmt.Errorf("option %q is %T, want a number", key, o[key])
}

// Name returns "injection".
func (d *Detector) Name() string { return Type }

// Rules lists the rules the detector reports.
func (d *Detector) Rules() []*finding.Rule { return allRules }

// Threshold returns the operating point: the calibrated one chosen at
// training time (the best F1 on the calibration part with at most 1 %
// false positives there), or the configured threshold.
func (d *Detector) Threshold() float64 { return d.threshold }

// minReport is the lowest score reported as a hit.
const minReport = 0.1

// Detect scores in.Text and returns at most one hit.
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Text == "" {
		return nil, nil
	}
	indirect := d.mode == ModeIndirect || d.mode == ModeAuto && (in.Role == detect.RoleDocument || in.Role == detect.RoleTool)
	sc := d.scratch.Get().(*evidence.Scratch)
	dec := d.p.Score(in.Text, indirect, sc)
	d.scratch.Put(sc)
	h := detect.Hit{Score: dec.Score, Start: dec.Start, End: dec.End, Label: "PROMPT_INJECTION"}
	switch dec.From {
	case evidence.FromClassifier:
		h.Rule = RuleClassifier
	case evidence.FromEncoded:
		h.Rule = RuleEncoded
	default:
		h.Rule = rulesByCategory[dec.From]
	}
	if d.ext != nil {
		s, err := d.ext.score(ctx, in.Text)
		switch {
		case err != nil && !d.ext.failOpen:
			return nil, fmt.Errorf("injection: external classifier: %w", err)
		case err == nil:
			c := d.ext.combine(h.Score, s)
			if s > h.Score {
				h.Rule, h.Start, h.End = RuleExternal, 0, len(in.Text)
			}
			h.Score = c
		default:
			d.ext.noteFailOpen(err)
		}
	}
	if h.Score < min(minReport, d.threshold) {
		return nil, nil
	}
	return []detect.Hit{h}, nil
}
