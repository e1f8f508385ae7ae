// Package exfil detects data exfiltration through links in model output:
// markdown images and links, reference-style definitions, autolinks, HTML
// elements that load or link a URL (img, srcset, iframe, a, CSS url() in
// style attributes, …) and, optionally, bare URLs, whose URL carries data
// (long or encoded query strings, encoded path segments, data in
// subdomains) or, for images, points outside an allowlist of domains. An
// image is fetched as soon as the answer renders, without a click, so the
// same URL scores higher in an image than in a link.
//
// It registers the detector type "exfil" with detect.Default. Options:
//
//	allow_domains:   [domains]  hosts that may be linked freely: a domain
//	                            matches itself and its subdomains; IDNA
//	                            names are compared in their punycode form
//	block_unlisted:  bool       with allow_domains set, any image (or other
//	                            auto-loading element) whose host is not
//	                            allowed is a hit (default true)
//	max_query_bytes: int        query strings (plus fragments) longer than
//	                            this raise the score (default 128)
//	links:           bool       judge clickable links too, not only images
//	                            (default true)
//	bare_urls:       bool       judge bare http(s) URLs in text as links
//	                            (default false)
//	threshold:       float      the operating point Threshold reports
//	                            (default 0.5)
//
// Scanning is anchored on the bytes every construct contains (']' for
// markdown, '<' for autolinks and HTML, ':' for bare URLs), found with
// strings.IndexByte, so text without links costs little more than those
// searches. Every construct is bounded (link text 1 KiB, URL 4 KiB, HTML
// tag 8 KiB); a URL longer than that is reported as an overlong link
// rather than buffered. The detector is safe to run on streamed text with
// the redact package (Spanner, LookBehinder, Holder), and Replacement gives
// the text that keeps a redacted link's text or image's alt text.
//
// The score of a URL is described in docs/detectors/exfil-and-comparison.md: a logistic
// function of the number of bytes of data the URL appears to carry,
// relative to a per-construct allowance, plus fixed terms for IP-literal
// hosts and overlong query strings.
package exfil

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/net/idna"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "exfil"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

var refs = finding.References{
	OWASP: []string{"LLM02:2025", "LLM05:2025"},
	ATLAS: []string{"AML.T0057"},
	CWE:   []string{"CWE-201"},
}

const remediation = "Do not render links and images from model output to unknown hosts; allowlist the domains answers may link to, and remove links that carry data."

var family = finding.Family{
	Name:        Type,
	Layer:       finding.LayerOutput,
	Remediation: remediation,
	References:  refs,
}

// The rules.
var (
	RuleMarkdownImage = family.Rule("markdown-image", "Markdown image whose URL carries data or leaves the allowlist", finding.High)
	RuleLink          = family.Rule("link", "Link whose URL carries data", finding.Medium)
	RuleHTMLImg       = family.Rule("html-img", "HTML element that loads a URL carrying data or leaving the allowlist", finding.High)
	RuleReference     = family.Rule("reference-link", "Reference-style link definition whose URL carries data", finding.High)
	RuleDNS           = family.Rule("dns", "URL carrying data in its subdomain labels (DNS exfiltration)", finding.High)
	RuleOverlong      = family.Rule("overlong", "Link or image URL longer than the scanner's bound", finding.Medium)
)

var allRules = []*finding.Rule{RuleMarkdownImage, RuleLink, RuleHTMLImg, RuleReference, RuleDNS, RuleOverlong}

// Rules returns every rule of the detector family, in a fixed order.
func Rules() []*finding.Rule { return slices.Clone(allRules) }

// Detector finds links that exfiltrate data. It is safe for concurrent use.
type Detector struct {
	allow         []string // normalised allowed domains
	blockUnlisted bool
	maxQuery      int
	links         bool
	bare          bool
	threshold     float64
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
	if err := o.Check("allow_domains", "block_unlisted", "max_query_bytes", "links", "bare_urls", "threshold"); err != nil {
		return nil, err
	}
	doms, err := o.Strings("allow_domains")
	if err != nil {
		return nil, err
	}
	d := &Detector{}
	for _, s := range doms {
		n, err := normaliseDomain(s)
		if err != nil {
			return nil, fmt.Errorf("option \"allow_domains\": %q: %w", s, err)
		}
		d.allow = append(d.allow, n)
	}
	if d.blockUnlisted, err = o.Bool("block_unlisted", true); err != nil {
		return nil, err
	}
	if d.maxQuery, err = o.Int("max_query_bytes", 128); err != nil {
		return nil, err
	}
	if d.maxQuery == 0 {
		return nil, fmt.Errorf("option \"max_query_bytes\" must be positive")
	}
	if d.links, err = o.Bool("links", true); err != nil {
		return nil, err
	}
	if d.bare, err = o.Bool("bare_urls", false); err != nil {
		return nil, err
	}
	d.threshold = 0.5
	if v, ok := o["threshold"]; ok && v != nil {
		f, ok := detect.Number(v)
		if !ok || math.IsNaN(f) || f <= 0 || f > 1 {
			return nil, fmt.Errorf("option \"threshold\": %v is not a number in (0, 1]", v)
		}
		d.threshold = f
	}
	return d, nil
}

// normaliseDomain lowercases a domain, drops a leading "*." or "." and a
// trailing dot, and converts an internationalised name to punycode.
func normaliseDomain(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimPrefix(s, ".")
	s = strings.TrimSuffix(s, ".")
	if s == "" || strings.Contains(s, "..") {
		return "", fmt.Errorf("empty label")
	}
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("not a valid domain name: %w", err)
	}
	return a, nil
}

// Name returns "exfil".
func (d *Detector) Name() string { return Type }

// Rules lists the detector's rules.
func (d *Detector) Rules() []*finding.Rule { return slices.Clone(allRules) }

// Threshold is the score at or above which a text counts as flagged.
func (d *Detector) Threshold() float64 { return d.threshold }

// MaxSpan is the longest a hit can be plus one: an HTML tag of up to 8 KiB.
func (d *Detector) MaxSpan() int { return maxSpan }

// LookBehind is how far before a hit its decision can look: the bracket
// that opens a markdown link's text, the uses of a reference definition as
// an image, the construct a bare URL may lie in.
func (d *Detector) LookBehind() int { return maxSpan }

// Detect returns the exfiltration links in in.Text, ordered by Start, then
// End.
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := scanner{text: in.Text, eof: true, d: d, pending: len(in.Text), lastBang: -1}
	s.scan()
	if len(s.hits) > 1 {
		detect.SortHits(s.hits)
	}
	return s.hits, nil
}

// Hold returns the offset from which text, if it grew, could still gain or
// change a hit: the start of a construct that runs to the end of the text,
// of an unmatched '[' near the end, or of a trailing bare URL.
func (d *Detector) Hold(text string) int {
	s := scanner{text: text, eof: false, d: d, pending: len(text), lastBang: -1}
	s.scan()
	p := min(s.pending, openBracket(text))
	if d.bare {
		// A trailing word may be the scheme of a bare URL to come.
		i := len(text)
		for i > 0 && len(text)-i < maxSchem && isAlpha(text[i-1]) {
			i--
		}
		p = min(p, i)
	}
	return p
}

// openBracket returns the start of the earliest '[' (with a '!' before it)
// in the last maxText bytes of text that no ']' closes, or len(text).
func openBracket(text string) int {
	p := len(text)
	depth := 0
	stop := max(len(text)-maxText-1, 0)
	for i := len(text) - 1; i >= stop; i-- {
		switch text[i] {
		case ']':
			depth++
		case '[':
			if depth > 0 {
				depth--
			} else {
				p = i
			}
		}
	}
	if p > 0 && p < len(text) && text[p-1] == '!' {
		p--
	}
	if n := len(text); n > 0 && p == n && text[n-1] == '!' {
		p = n - 1
	}
	return p
}

// Replacement returns the text that replaces h's span of text when it is
// redacted: the link text of a markdown link, the alt text of a markdown
// or HTML image (with any link or image nested in it reduced the same
// way), and nothing for a reference definition, an autolink, a bare URL or
// another HTML tag. Out-of-range spans give "".
func (d *Detector) Replacement(text string, h detect.Hit) string { return Replacement(text, h) }

// Replacement is Detector.Replacement.
func Replacement(text string, h detect.Hit) string {
	if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
		return ""
	}
	return reduce(text[h.Start:h.End], 0)
}
