// Package pii detects personal data in text with validators rather than
// bare patterns: e-mail addresses, payment card numbers (issuer ranges and
// the Luhn check), US social security numbers (area, group and serial
// rules), IBANs (country lengths and mod-97), public IPv4 and IPv6
// addresses (net/netip), phone numbers (libphonenumber metadata via
// github.com/nyaruka/phonenumbers), dates of birth (a real date after a
// birth word), national identity and tax numbers (ES DNI/NIE, UK NINO,
// IT codice fiscale, FR NIR, NL BSN, DE Steuer-ID, BR CPF, IN Aadhaar,
// CN resident ID, CA SIN: checksums, and context words where a scheme has
// none), passport numbers (formats and a passport word), person names
// (titles, introducing phrases and a first-name list) and street
// addresses (house number, street name and street-type word, in several
// languages).
//
// It registers the detector type "pii" with detect.Default. Options:
//
//	entities:           [names]  only these: email, credit_card, us_ssn, iban,
//	                             ip_address, phone_number, date_of_birth,
//	                             national_id, passport, person,
//	                             street_address (default: all)
//	regions:            [codes]  regions whose national phone formats are
//	                             recognised, e.g. [US, GB] (default
//	                             DefaultRegions, 24 regions);
//	                             "+CC …" numbers are recognised for every region
//	include_private_ip: bool     also report private, loopback, link-local and
//	                             documentation addresses (default false)
//
// Scores: 0.8–1.0 when a validator confirms the value (a card passes Luhn
// and its issuer's range, an IBAN its checksum, an ID its check digit);
// 0.5–0.75 when it rests on a context word or the name list. Threshold is
// 0.5. National IDs share the rule pii.national-id; the hit's Label names
// the scheme (ES_DNI, IT_FISCAL_CODE, …). DatasetType maps the entity
// types of span-labelled data sets to the Labels.
package pii

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

// Type is the detector's registered type name.
const Type = "pii"

func init() {
	detect.Default.Register(Type, func(opts map[string]any) (detect.Detector, error) {
		return New(opts)
	})
}

var refsPII = finding.References{
	OWASP: []string{"LLM02:2025"},
	ATLAS: []string{"AML.T0057"},
	CWE:   []string{"CWE-359"},
}

var family = finding.Family{
	Name:        Type,
	Layer:       finding.LayerOutput,
	Remediation: "Redact or remove the personal data; keep it out of prompts, model context and training data unless there is a lawful basis.",
	References:  refsPII,
}

// The rules.
var (
	RuleEmail      = family.Rule("email", "E-mail address", finding.Medium)
	RuleCreditCard = family.Rule("credit-card", "Payment card number", finding.High)
	RuleSSN        = family.Rule("us-ssn", "US social security number", finding.High)
	RuleIBAN       = family.Rule("iban", "International bank account number", finding.High)
	RuleIP         = family.Rule("ip-address", "Public IP address", finding.Low)
	RulePhone      = family.Rule("phone-number", "Phone number", finding.Medium)
	RuleDOB        = family.Rule("date-of-birth", "Date of birth", finding.Medium)
	// RuleNationalID covers national identity, social security and tax
	// identification numbers; the hit's Label names the scheme (ES_DNI,
	// ES_NIE, UK_NINO, IT_FISCAL_CODE, FR_NIR, NL_BSN, DE_TAX_ID, BR_CPF,
	// IN_AADHAAR, CN_RESIDENT_ID, CA_SIN).
	RuleNationalID = family.Rule("national-id", "National identity or tax number", finding.High)
	RulePassport   = family.Rule("passport", "Passport number", finding.High)
	RulePerson     = family.Rule("person", "Person name", finding.Low)
	RuleAddress    = family.Rule("street-address", "Street address", finding.Medium)
)

// Entity indices.
const (
	eEmail = iota
	eCard
	eSSN
	eIBAN
	eIP
	ePhone
	eDOB
	eNationalID
	ePassport
	ePerson
	eAddress
	numEntities
)

type entity struct {
	name  string
	rule  *finding.Rule
	label string
}

var entities = [numEntities]entity{
	{"email", RuleEmail, "EMAIL"},
	{"credit_card", RuleCreditCard, "CREDIT_CARD"},
	{"us_ssn", RuleSSN, "US_SSN"},
	{"iban", RuleIBAN, "IBAN"},
	{"ip_address", RuleIP, "IP_ADDRESS"},
	{"phone_number", RulePhone, "PHONE_NUMBER"},
	{"date_of_birth", RuleDOB, "DATE_OF_BIRTH"},
	{"national_id", RuleNationalID, "NATIONAL_ID"},
	{"passport", RulePassport, "PASSPORT"},
	{"person", RulePerson, "PERSON"},
	{"street_address", RuleAddress, "STREET_ADDRESS"},
}

// Rules returns every rule the detector family knows, in a fixed order.
func Rules() []*finding.Rule {
	out := make([]*finding.Rule, numEntities)
	for i, e := range entities {
		out[i] = e.rule
	}
	return out
}

const (
	// maxSpan: the longest e-mail address (64 + 1 + 253 bytes) plus the
	// bytes read past it to tell that it ended.
	maxSpan = 320
	// lookBehind covers context words and word boundaries before a hit.
	lookBehind = 64
)

// DefaultRegions are the regions whose national phone-number formats are
// recognised when the "regions" option is not given: the most populous
// markets of North America, Europe, Latin America and Asia-Pacific, tried
// in this order.
var DefaultRegions = []string{"US", "GB", "CA", "AU", "IN", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "IE", "NZ", "PT", "BR", "MX", "SE", "DK", "NO", "FI", "PL", "JP"}

// Detector finds personal data. It is safe for concurrent use.
type Detector struct {
	on             [numEntities]bool
	regions        []string
	includePrivate bool
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
	if err := o.Check("entities", "regions", "include_private_ip"); err != nil {
		return nil, err
	}
	names, err := o.Strings("entities")
	if err != nil {
		return nil, err
	}
	regions, err := o.Strings("regions")
	if err != nil {
		return nil, err
	}
	priv, err := o.Bool("include_private_ip", false)
	if err != nil {
		return nil, err
	}
	d := &Detector{includePrivate: priv}
	if names == nil {
		for i := range d.on {
			d.on[i] = true
		}
	}
	for _, n := range names {
		i := slices.IndexFunc(entities[:], func(e entity) bool { return e.name == n || e.rule.ID == n })
		if i < 0 {
			known := make([]string, numEntities)
			for k, e := range entities {
				known[k] = e.name
			}
			return nil, fmt.Errorf("option \"entities\": unknown entity %q (known: %s)", n, strings.Join(known, ", "))
		}
		d.on[i] = true
	}
	if regions == nil {
		regions = DefaultRegions
	}
	supported := phonenumbers.GetSupportedRegions()
	for _, r := range regions {
		u := strings.ToUpper(strings.TrimSpace(r))
		if !supported[u] {
			return nil, fmt.Errorf("option \"regions\": unknown region %q (want a two-letter region code such as US or GB)", r)
		}
		d.regions = append(d.regions, u)
	}
	return d, nil
}

// Name returns "pii".
func (d *Detector) Name() string { return Type }

// Rules lists the enabled rules.
func (d *Detector) Rules() []*finding.Rule {
	var out []*finding.Rule
	for i, e := range entities {
		if d.on[i] {
			out = append(out, e.rule)
		}
	}
	return out
}

// Threshold is the score from which a hit counts as personal data: 0.5.
// Validated values score 0.8–1.0; values resting on a context word or a
// name list score 0.5–0.75.
func (d *Detector) Threshold() float64 { return 0.5 }

// MaxSpan bounds a hit plus the bytes after it that decide where it ends;
// e-mail addresses are the longest.
func (d *Detector) MaxSpan() int { return maxSpan }

// LookBehind bounds the context read before a hit (context words such as
// "ssn" or "phone", and word boundaries).
func (d *Detector) LookBehind() int { return lookBehind }

// Detect returns the personal data in in.Text, ordered by Start (then End).
func (d *Detector) Detect(ctx context.Context, in detect.Input) ([]detect.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := scanner{d: d, text: in.Text, eof: true, pending: len(in.Text)}
	s.scan()
	s.hits = dropNamesInAddresses(s.hits)
	detect.SortHits(s.hits)
	return s.hits, nil
}

// Hold returns the offset from which text, if it grew, could still gain or
// change a hit: the start of the trailing run of non-space bytes, or of an
// earlier candidate (a card or phone number written with spaces, say) that
// runs to the end of the text.
func (d *Detector) Hold(text string) int {
	s := scanner{d: d, text: text, eof: false, pending: len(text)}
	s.scan()
	i := len(text)
	stop := max(len(text)-maxSpan, 0)
	for i > stop && !isSpace(text[i-1]) {
		i--
	}
	if d.on[eDOB] || d.on[eAddress] {
		// A month name ("born March 12") or a street name ("Calle Mayor
		// 5", "Hauptstraße 5") among the last four words of the line
		// may be completed by a number still to come.
		k := i
		words := 0
		var buf [24]byte
		for k > stop && len(text)-k < streetBack && words < 4 {
			c := text[k-1]
			switch {
			case c == ' ' || c == ',':
				k--
			case isLetter(c) || c == '.' || c == '\'' || c == '/':
				e := k
				for k > stop && (isLetter(text[k-1]) || text[k-1] == '.' || text[k-1] == '\'' || text[k-1] == '/') {
					k--
				}
				words++
				w, _ := s.wordAt(k, buf[:])
				if w == nil || e-k > len(buf) {
					continue
				}
				if m, _ := s.monthAt(k); d.on[eDOB] && m != 0 ||
					d.on[eAddress] && (streetFirst.has(w) || isUpperOrNonASCII(text[k]) && hasStreetSuffix(w)) {
					i = min(i, k)
				}
			default:
				words = 4
			}
		}
	}
	return min(s.pending, i)
}

// dropNamesInAddresses removes person hits that start inside a street
// address ("Baker" in "221B Baker Street" is a street, not a person).
func dropNamesInAddresses(hs []detect.Hit) []detect.Hit {
	out := hs[:0]
	for _, h := range hs {
		if h.Rule == RulePerson && slices.ContainsFunc(hs, func(a detect.Hit) bool {
			// Only addresses that start first, so that streaming, which
			// settles hits in order of their start, drops the same names.
			return a.Rule == RuleAddress && a.Start <= h.Start && h.Start < a.End
		}) {
			continue
		}
		out = append(out, h)
	}
	return out
}
