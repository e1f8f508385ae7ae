// Package unicode detects Unicode smuggling: text hidden in tag characters
// (U+E0000–U+E007F), zero-width and other invisible characters,
// bidirectional controls (Trojan Source), runs of variation selectors used
// to carry data, and words that mix Latin letters with look-alikes from
// other scripts (homoglyph spoofing, "pаypal" with a Cyrillic "а"). It
// works the same on prompts and on model output.
//
// It registers the detector type "unicode" with detect.Default. Options:
//
//	checks: [names]  only these: tag-characters, zero-width, bidi-control,
//	                 variation-selectors, mixed-script (default: all)
//
// Legitimate uses are not reported: emoji ZWJ sequences and emoji
// variation selectors, flag tag sequences (🏴 + tags + cancel tag), ZWJ and
// ZWNJ where scripts need them (between Arabic letters, next to an Indic
// virama),
// zero-width spaces between letters of scripts written without spaces
// (Thai, Lao, Khmer, Myanmar, CJK), bidi marks in right-to-left text,
// Hangul fillers next to Hangul, a byte-order mark at the start, and words
// that mix scripts for other reasons (Japanese kanji/kana with Latin,
// "Москва2024").
//
// Scores: tag-character runs 1.0; bidi overrides (U+202D, U+202E) 0.9,
// embeddings and isolates 0.6 (0.35 next to right-to-left letters), a bidi
// mark in left-to-right text 0.3; three or more zero-width characters in a
// row 0.95, two 0.7, one inside a word 0.6, one elsewhere 0.3 (soft hyphens
// 0.2); two or more variation selectors in a row 0.9; a word of Latin
// letters and look-alikes only 0.9, a word made only of look-alikes
// between Latin words 0.7, other Latin/Cyrillic/Greek mixes 0.4. Threshold
// is 0.5.
//
// Hits are bounded (MaxSpan) and local (LookBehind), so the detector can
// redact streamed output. A run of invisible characters longer than 256
// bytes is reported as overlapping hits, one starting at each character
// and covering up to 64 characters, which a redaction merges into one
// mask. The hit Label (TAG_CHARS, ZERO_WIDTH, BIDI_CONTROL,
// VARIATION_SELECTORS, HOMOGLYPH) is what replaces the span when the policy
// redacts; it never contains the hidden text.
package unicode

import (
	"context"
	"fmt"
	"slices"
	stdunicode "unicode"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/textnorm"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "unicode"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

func rule(id, title string, sev finding.Severity, cwe string, rem string) *finding.Rule {
	return &finding.Rule{
		ID:          "unicode." + id,
		Title:       title,
		Layer:       finding.LayerInferenceAPI,
		Severity:    sev,
		Remediation: rem,
		References: finding.References{
			OWASP: []string{"LLM01:2025"},
			ATLAS: []string{"AML.T0051"},
			CWE:   []string{cwe},
		},
	}
}

// The rules.
var (
	RuleTagChars = rule("tag-characters", "Text hidden in Unicode tag characters", finding.High, "CWE-451",
		"Strip Unicode tag characters (U+E0000–U+E007F) from untrusted text before a model or a person reads it.")
	RuleZeroWidth = rule("zero-width", "Zero-width or invisible format characters", finding.Medium, "CWE-451",
		"Remove zero-width and other invisible characters from untrusted text; normalise before matching.")
	RuleBidi = rule("bidi-control", "Bidirectional control characters (Trojan Source)", finding.High, "CWE-451",
		"Remove or escape bidi overrides, embeddings and isolates so that text reads the way it is processed.")
	RuleVariationSelectors = rule("variation-selectors", "Data hidden in a run of variation selectors", finding.High, "CWE-451",
		"Remove runs of variation selectors; a character needs at most one.")
	RuleMixedScript = rule("mixed-script", "Word mixing Latin letters with look-alikes from other scripts", finding.Medium, "CWE-1007",
		"Treat the word as a spoof of the Latin word it imitates; map confusables (UTS #39) before matching or display.")
)

// Check indices.
const (
	cTag = iota
	cZeroWidth
	cBidi
	cVS
	cMixed
	numChecks
)

type check struct {
	name  string
	rule  *finding.Rule
	label string
}

var checks = [numChecks]check{
	{"tag-characters", RuleTagChars, "TAG_CHARS"},
	{"zero-width", RuleZeroWidth, "ZERO_WIDTH"},
	{"bidi-control", RuleBidi, "BIDI_CONTROL"},
	{"variation-selectors", RuleVariationSelectors, "VARIATION_SELECTORS"},
	{"mixed-script", RuleMixedScript, "HOMOGLYPH"},
}

// Rules returns every rule the detector family knows, in a fixed order.
func Rules() []*finding.Rule {
	out := make([]*finding.Rule, numChecks)
	for i, c := range checks {
		out[i] = c.rule
	}
	return out
}

const (
	// maxRun is the longest run of invisible characters reported as one
	// hit, in bytes; longer runs become chained hits (see judgeRun).
	maxRun = 256
	// chainRunes is how many characters a chained hit covers.
	chainRunes = 64
	// maxWord is the longest word judged for mixed scripts, in bytes.
	maxWord = 128
	// nearWord is how far a neighbouring word may be, in bytes.
	nearWord = 64
	// maxSpan covers the longest hit and what is read after it: a run and
	// the character after it, or a word, the gap and the next word.
	maxSpan = maxRun + 2*utf8.UTFMax + maxWord + nearWord + maxWord
	// lookBehind covers what is read before a hit: the run's long-run
	// decision, the characters before a run, the previous word.
	lookBehind = maxRun + 2*utf8.UTFMax + maxWord + nearWord
	// threshold is the calibrated operating point.
	threshold = 0.5
)

// Detector finds Unicode smuggling. It is safe for concurrent use.
type Detector struct {
	on [numChecks]bool
}

var (
	_ detect.Detector     = (*Detector)(nil)
	_ detect.Spanner      = (*Detector)(nil)
	_ detect.LookBehinder = (*Detector)(nil)
	_ detect.Holder       = (*Detector)(nil)
)

// New builds a detector from its options (see the package comment).
func New(opts map[string]any) (*Detector, error) {
	o := detect.Options(opts)
	if err := o.Check("checks"); err != nil {
		return nil, err
	}
	names, err := o.Strings("checks")
	if err != nil {
		return nil, err
	}
	d := &Detector{}
	if names == nil {
		for i := range d.on {
			d.on[i] = true
		}
		return d, nil
	}
	for _, n := range names {
		i := slices.IndexFunc(checks[:], func(c check) bool { return c.name == n || c.rule.ID == n })
		if i < 0 {
			return nil, fmt.Errorf("option %q: unknown check %q (known: tag-characters, zero-width, bidi-control, variation-selectors, mixed-script)", "checks", n)
		}
		d.on[i] = true
	}
	return d, nil
}

// Name returns "unicode".
func (d *Detector) Name() string { return Type }

// Rules lists the rules of the enabled checks.
func (d *Detector) Rules() []*finding.Rule {
	var out []*finding.Rule
	for i, c := range checks {
		if d.on[i] {
			out = append(out, c.rule)
		}
	}
	return out
}

// Threshold is the score from which a text counts as smuggling.
func (d *Detector) Threshold() float64 { return threshold }

// MaxSpan bounds a hit and what is read past its start to decide it.
func (d *Detector) MaxSpan() int { return maxSpan }

// LookBehind bounds what is read before a hit's start to decide it.
func (d *Detector) LookBehind() int { return lookBehind }

// Detect reports the smuggling in in.Text, ordered by Start.
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := in.Text
	var hits []detect.Hit
	p := firstNonASCII(s)
	if p == len(s) {
		return nil, nil
	}
	if d.on[cTag] || d.on[cZeroWidth] || d.on[cBidi] || d.on[cVS] {
		hits = d.invisible(hits, s, p)
	}
	if d.on[cMixed] {
		hits = mixedScript(hits, s, p)
	}
	slices.SortStableFunc(hits, func(a, b detect.Hit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	return hits, nil
}

// firstNonASCII returns the index of the first byte of s that is not
// ASCII, or len(s).
func firstNonASCII(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if load64(s, i)&highs8 != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// invisible judges the runs of invisible characters in s from p (all
// before p is ASCII): the runs textnorm.Invisible lists, found the same
// way but skipping ASCII eight bytes at a time and judging each run as it
// ends, without collecting them.
func (d *Detector) invisible(hits []detect.Hit, s string, p int) []detect.Hit {
	var cur textnorm.Span // the run being extended; Kind 0 when none
	// textnorm.Invisible steps over every byte that does not start a
	// sequence (continuation bytes) or only inside a sequence it decodes,
	// so it looks at every lead byte; only invLead bytes can start an
	// invisible character (a lone byte at the end decodes to U+FFFD,
	// which is not one), so the others are stepped over one by one.
	for i := p; i < len(s); {
		b := s[i]
		if !invLead[b] {
			i++
			if b < utf8.RuneSelf {
				for i+8 <= len(s) && load64(s, i)&highs8 == 0 {
					i += 8
				}
			}
			continue
		}
		if !textnorm.MayBeInvisible(s[i:]) {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		k := textnorm.KindOf(r)
		if k == 0 {
			i += n
			continue
		}
		if cur.Kind == k && cur.End == i {
			cur.End = i + n
		} else {
			if cur.Kind != 0 {
				hits = d.judgeRun(hits, s, cur)
			}
			cur = textnorm.Span{Start: i, End: i + n, Kind: k}
		}
		i += n
	}
	if cur.Kind != 0 {
		hits = d.judgeRun(hits, s, cur)
	}
	return hits
}

// invLead marks the bytes that textnorm.MayBeInvisible can accept as the first
// byte of a sequence.
var invLead = [256]bool{
	0xC2: true, 0xCD: true, 0xD8: true, 0xDB: true, 0xDC: true, 0xE0: true, 0xE1: true,
	0xE2: true, 0xE3: true, 0xEF: true, 0xF0: true, 0xF3: true,
}

// prevRune returns the rune before s[:i] (utf8.RuneError at the start).
func prevRune(s string, i int) rune {
	if i <= 0 {
		return utf8.RuneError
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

func nextRune(s string, i int) rune {
	if i >= len(s) {
		return utf8.RuneError
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// runeCount counts the characters of an invisible run.
func runeCount(s string) int { return utf8.RuneCountInString(s) }

// judgeRun scores one run of invisible characters and appends its hits.
func (d *Detector) judgeRun(hits []detect.Hit, s string, sp textnorm.Span) []detect.Hit {
	run := s[sp.Start:sp.End]
	prev, next := prevRune(s, sp.Start), nextRune(s, sp.End)
	n := runeCount(run)
	var c int
	var score float64
	switch sp.Kind {
	case textnorm.TagChar:
		c = cTag
		if isFlagTagSequence(s, sp) {
			return hits
		}
		score = 1
	case textnorm.VariationSelector:
		c = cVS
		if n < 2 {
			return hits
		}
		score = 0.9
	case textnorm.Bidi:
		c = cBidi
		score = bidiScore(run, prev, next)
	case textnorm.ZeroWidth:
		c = cZeroWidth
		score = zeroWidthScore(run, n, prev, next, sp.Start == 0, s, sp)
	case textnorm.Filler:
		c = cZeroWidth
		score = fillerScore(run, n, prev, next)
	case textnorm.OtherFormat:
		c = cZeroWidth
		score = formatScore(run, n)
	}
	if sp.End-sp.Start > maxRun {
		// Judged by kind alone, so that every part of the run is judged
		// alike wherever a window cuts it.
		score = longRunScore[sp.Kind]
	}
	if score <= 0 || !d.on[c] {
		return hits
	}
	ck := checks[c]
	if sp.End-sp.Start <= maxRun {
		return append(hits, detect.Hit{Rule: ck.rule, Start: sp.Start, End: sp.End, Score: score, Label: ck.label})
	}
	// A long run: every character starts a hit reaching over the next
	// chainRunes-1 characters (or to the run's end), so that the hits
	// stay local, a redaction merges them into one mask, and a stream
	// that cuts the run pulls its cut back in steps of chainRunes.
	hits = slices.Grow(hits, n)
	end := sp.Start // end of the chainRunes characters from i
	for k := 0; k < chainRunes && end < sp.End; k++ {
		_, w := utf8.DecodeRuneInString(s[end:])
		end += w
	}
	for i := sp.Start; i < sp.End; {
		hits = append(hits, detect.Hit{Rule: ck.rule, Start: i, End: end, Score: score, Label: ck.label})
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if end < sp.End {
			_, w2 := utf8.DecodeRuneInString(s[end:])
			end += w2
		}
	}
	return hits
}

// longRunScore scores runs longer than maxRun, by kind.
var longRunScore = [...]float64{
	textnorm.TagChar:           1,
	textnorm.ZeroWidth:         0.95,
	textnorm.Bidi:              0.9,
	textnorm.VariationSelector: 0.9,
	textnorm.Filler:            0.8,
	textnorm.OtherFormat:       0.7,
}

// isFlagTagSequence reports whether the tag run is part of an emoji tag
// sequence: U+1F3F4 WAVING BLACK FLAG, up to six tag letters or digits,
// U+E007F CANCEL TAG (subdivision flags such as England's).
func isFlagTagSequence(s string, sp textnorm.Span) bool {
	run := s[sp.Start:sp.End]
	if prevRune(s, sp.Start) != 0x1F3F4 {
		return false
	}
	n := 0
	for i, r := range run {
		switch {
		case r == 0xE007F:
			return i+utf8.RuneLen(r) == len(run) && n >= 2
		case r >= 0xE0030 && r <= 0xE0039, r >= 0xE0061 && r <= 0xE007A:
			n++
			if n > 6 {
				return false
			}
		default:
			return false
		}
	}
	return false
}

func isRTL(r rune) bool {
	return r >= 0x0590 && r <= 0x08FF || r >= 0xFB1D && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF ||
		r >= 0x10800 && r <= 0x10FFF || r >= 0x1E800 && r <= 0x1EFFF
}

func bidiScore(run string, prev, next rune) float64 {
	override, embed := false, false
	for _, r := range run {
		switch {
		case r == 0x202D || r == 0x202E:
			override = true
		case r >= 0x202A && r <= 0x202C, r >= 0x2066 && r <= 0x2069:
			embed = true
		}
	}
	rtl := isRTL(prev) || isRTL(next)
	switch {
	case override:
		return 0.9
	case embed && rtl:
		return 0.35
	case embed:
		return 0.6
	case rtl:
		return 0 // marks in right-to-left text
	}
	return 0.3
}

func isPictographic(r rune) bool {
	return r >= 0x1F000 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF || r >= 0x2300 && r <= 0x23FF ||
		r >= 0x2B00 && r <= 0x2BFF || r == 0x00A9 || r == 0x00AE || r >= 0x2190 && r <= 0x21FF ||
		r == 0x203C || r == 0x2049 || r == 0x2122 || r == 0x2139 || r >= 0x3030 && r <= 0x303D || r == 0x3297 || r == 0x3299
}

// emojiSide reports whether r can end or start an emoji ZWJ sequence
// element: a pictograph, a skin-tone modifier (U+1F3FB–U+1F3FF, inside the
// pictograph range), VS16 or the cancel tag ending a flag.
func emojiSide(r rune) bool {
	return isPictographic(r) || r == 0xFE0F || r == 0xE007F || r == 0x20E3
}

// isVirama reports whether r is the virama (halant) of an Indic script or
// its equivalent in Myanmar, Khmer and Tibetan.
func isVirama(r rune) bool {
	switch r {
	case 0x094D, 0x09CD, 0x0A4D, 0x0ACD, 0x0B4D, 0x0BCD, 0x0C4D, 0x0CCD, 0x0D4D, 0x0DCA,
		0x1039, 0x103A, 0x17D2, 0x0F84:
		return true
	}
	return false
}

// legitJoiner reports whether a ZWJ or ZWNJ between prev and next has a
// job: between letters of a cursive script (Arabic, Syriac, N'Ko,
// Mongolian, Thaana), or next to a virama in the Indic and other
// Brahmic scripts, where it picks a conjunct, half or explicit-virama form.
func legitJoiner(prev, next rune) bool {
	if isVirama(prev) || isVirama(next) {
		return true
	}
	cursive := func(r rune) bool {
		return r >= 0x0600 && stdunicode.In(r, stdunicode.Arabic, stdunicode.Syriac, stdunicode.Nko, stdunicode.Mongolian, stdunicode.Thaana)
	}
	return cursive(prev) && cursive(next)
}

// spacelessScript reports whether r belongs to a script written without
// spaces between words, where a zero-width space marks word breaks.
func spacelessScript(r rune) bool {
	return stdunicode.In(r, stdunicode.Thai, stdunicode.Lao, stdunicode.Khmer, stdunicode.Myanmar,
		stdunicode.Han, stdunicode.Hiragana, stdunicode.Katakana, stdunicode.Tibetan, stdunicode.Javanese, stdunicode.Balinese)
}

func isWordChar(r rune) bool {
	return stdunicode.IsLetter(r) || stdunicode.IsDigit(r) || stdunicode.IsMark(r)
}

func zeroWidthScore(run string, n int, prev, next rune, atStart bool, s string, sp textnorm.Span) float64 {
	if n >= 3 {
		return 0.95
	}
	if n == 2 {
		return 0.7
	}
	r, _ := utf8.DecodeRuneInString(run)
	switch {
	case r == 0xFEFF && atStart:
		return 0 // byte-order mark
	case r == 0x200D && emojiSide(prev) && emojiSide(next):
		return 0 // emoji ZWJ sequence
	case (r == 0x200D || r == 0x200C) && legitJoiner(prev, next):
		return 0
	case r == 0x200B && (spacelessScript(prev) || spacelessScript(next)):
		return 0
	case isWordChar(prev) && isWordChar(next):
		return 0.6
	}
	return 0.3
}

func isHangul(r rune) bool {
	return stdunicode.Is(stdunicode.Hangul, r)
}

func fillerScore(run string, n int, prev, next rune) float64 {
	r, _ := utf8.DecodeRuneInString(run)
	switch {
	case (r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0) && (isHangul(prev) || isHangul(next)):
		return 0
	case (r == 0x17B4 || r == 0x17B5) && (stdunicode.Is(stdunicode.Khmer, prev) || stdunicode.Is(stdunicode.Khmer, next)):
		return 0
	case r == 0x034F && n == 1:
		return 0.3 // combining grapheme joiner: rare but legitimate
	case n >= 2:
		return 0.8
	}
	return 0.6
}

func formatScore(run string, n int) float64 {
	r, _ := utf8.DecodeRuneInString(run)
	switch {
	case r == 0x00AD:
		if n >= 3 {
			return 0.7
		}
		return 0.2
	case r >= 0x2065 && r <= 0x206F, r >= 0xFFF9 && r <= 0xFFFB:
		return 0.6
	}
	return 0 // number signs and other format characters of their scripts
}
