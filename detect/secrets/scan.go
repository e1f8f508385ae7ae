package secrets

import (
	"encoding/base64"
	"math"
	"strings"

	"github.com/rampartsec/rampart/detect"
)

const (
	// maxHit bounds every hit's length; PEM keys and JWTs are the long ones
	// (an RSA-4096 key in PEM is about 3.3 KB).
	maxHit = 8192
	// maxSpan is maxHit plus the byte after a hit that ends it.
	maxSpan = maxHit + 1
	// awsContext is how far after an AWS key ID or the word "aws" a secret
	// key is looked for.
	awsContext = 96
	// lookBehind bounds the context any rule reads before a hit's start:
	// an AWS key ID (20) and awsContext; an assignment's key name (64),
	// quote, spaces and operator (at most 79 in all); `"private_key": "`
	// (40) before a service-account key.
	lookBehind = 128
)

// Byte classes.
const (
	cDigit uint8 = 1 << iota
	cUpper
	cLower
	cURL   // '-' '_'
	cB64   // '+' '/'
	cSpace // ' ' \t \n \r \v \f
	cDot   // '.'

	cAlnum  = cDigit | cUpper | cLower
	cWord   = cAlnum | cURL        // base64url and identifier bytes
	cBase64 = cAlnum | cB64        // standard base64 without padding
	cAny64  = cAlnum | cURL | cB64 // either alphabet
)

// class maps a byte to its classes. It and anchor are initialised as
// variables, not in init, because the rule set's scan table is built from
// them when the package's variables are.
var class = func() (class [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		class[c] = cDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		class[c] = cUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		class[c] = cLower
	}
	class['-'], class['_'] = cURL, cURL
	class['+'], class['/'] = cB64, cB64
	for _, c := range " \t\n\r\v\f" {
		class[c] = cSpace
	}
	class['.'] = cDot
	return class
}()

func isSpace(c byte) bool { return class[c]&cSpace != 0 }

// status is a rule's verdict on a candidate.
type status uint8

const (
	no   status = iota // not a hit
	yes                // a hit
	more               // undecided: the text ends before the rule could tell
)

// scanner runs the enabled rules over one text. With eof false the text may
// still grow: candidates that run into its end are not reported but noted
// in pending (the earliest start of one).
type scanner struct {
	text       string
	eof        bool
	set        *loaded
	on         []bool // indexed like set.rules
	anyPattern bool   // some pattern rule is on
	hits       []detect.Hit
	pending    int
}

func (s *scanner) add(r, start, end int, score float64, label string) {
	if !s.eof {
		return
	}
	if label == "" {
		label = s.set.labels[r]
	}
	s.hits = append(s.hits, detect.Hit{Rule: s.set.rules[r], Start: start, End: end, Score: score, Label: label})
}

func (s *scanner) wait(start int) {
	if start < s.pending {
		s.pending = start
	}
}

// at returns text[i], or 0 past the end.
func (s *scanner) at(i int) byte {
	if i >= 0 && i < len(s.text) {
		return s.text[i]
	}
	return 0
}

// startsWord reports whether a token may start at i: the byte before it is
// not in word.
func (s *scanner) startsWord(i int, word uint8) bool {
	return i == 0 || class[s.text[i-1]]&word == 0
}

// token reads a run of bytes of class body from i, at most maxLen of them,
// that must end at the end of the text or at a byte not in word. It returns
// the run's end and whether it is a complete token of minLen..maxLen bytes.
func (s *scanner) token(i int, body uint8, minLen, maxLen int, word uint8) (int, status) {
	j := i
	lim := min(len(s.text), i+maxLen+1)
	for j < lim && class[s.text[j]]&body != 0 {
		j++
	}
	if j-i > maxLen {
		return j, no
	}
	if j == len(s.text) {
		if !s.eof {
			return j, more
		}
	} else if class[s.text[j]]&word != 0 {
		return j, no
	}
	if j-i < minLen {
		return j, no
	}
	return j, yes
}

// Anchor bytes: every rule's candidates are found at one of these.
const (
	aNone = iota
	aDash
	aUnderscore
	aA
	aJ
	aAssign
	aW
	aQuote
	aBegin // the 'B' of "-----BEGIN "
)

var anchor = func() (anchor [256]uint8) {
	anchor['-'] = aDash
	anchor['_'] = aUnderscore
	anchor['A'] = aA
	anchor['J'] = aJ
	anchor['='] = aAssign
	anchor[':'] = aAssign
	anchor['w'] = aW
	anchor['W'] = aW
	anchor['"'] = aQuote
	anchor['\''] = aQuote
	anchor['B'] = aBegin
	return anchor
}()

// anchorAfter reports whether anchor byte c can start anything when prev
// comes before it: a condition every handler below checks first, so that
// the scan loop can skip the anchor on the two bytes alone.
func anchorAfter(prev, c byte) bool {
	switch anchor[c] {
	case aDash: // sk-, glpat-, xox[abceprs]-, xapp-
		return strings.IndexByte("ktabceprs", prev) >= 0
	case aUnderscore: // gh[pousr]_, github_pat_, hf_, sk_live_, rk_live_, rk_
		return strings.IndexByte("pousrbfk", prev) >= 0
	case aA: // AKIA, ASIA, AIza at the start of a word
		return class[prev]&cAlnum == 0
	case aJ: // eyJ
		return prev == 'y'
	case aAssign:
		// "scheme://" whatever comes before; otherwise a key name, a
		// quote or a space ends before the operator, or it is "!=".
		return c == ':' || class[prev]&(cWord|cDot|cSpace) != 0 || strings.IndexByte("\"'`!", prev) >= 0
	case aQuote: // " is '"
		return prev == ' '
	case aW: // aws
		return prev == 'a' || prev == 'A'
	case aBegin: // -----BEGIN
		return prev == '-'
	}
	return false
}

// Bits of the scan table, indexed by two adjacent bytes.
const (
	tAnchor    = 0x0f // the anchor kind of the second byte, when it may start anything
	tBack      = 0x70 // the keywords' back (see keywordSet), shifted by tBackShift
	tBackShift = 4
	tKeyword   = 0x80 // some pattern keyword is found from the pair
)

// scanTable returns the table the scan loop reads, for every pair of
// adjacent bytes (first | second<<8, as a little-endian load gives them):
// the anchor kind of the second byte when anchorAfter allows it, and
// tKeyword and back when keywords of ks are found from the pair (ks may be
// nil).
func scanTable(ks *keywordSet) *[1 << 16]uint8 {
	tab := new([1 << 16]uint8)
	for i := range tab {
		prev, c := byte(i), byte(i>>8)
		if anchorAfter(prev, c) {
			tab[i] = anchor[c]
		}
		if p := uint16(prev)<<8 | uint16(c); ks != nil && ks.pairs[p] {
			tab[i] |= tKeyword | ks.back[p]<<tBackShift
		}
	}
	return tab
}

// anchorsOnly is the scan table without keywords, for detectors whose
// pattern rules are all off.
var anchorsOnly = scanTable(nil)

// scan visits every anchor byte and every pair of bytes that a keyword is
// found from in one pass, reading two adjacent bytes at a time from a
// table, and lets the rules look around them. Keywords found from a pair
// (keywordSet.at) run their pattern rules' windows.
func (s *scanner) scan() {
	t := s.text
	if len(t) == 0 {
		return
	}
	ks := s.set.keywords
	tab := anchorsOnly
	if ks != nil && s.anyPattern {
		tab = s.set.table
	}
	s.anchorAt(anchor[t[0]], 0)
	for i := 1; i < len(t); i++ {
		if x := tab[uint16(t[i-1])|uint16(t[i])<<8]; x != 0 {
			s.visit(i, x)
		}
	}
	if ks == nil || !s.anyPattern || s.eof {
		return
	}
	// A keyword may still be completed at the end of the text.
	s.wait(max(0, len(t)-ks.endDepth(t)-s.set.maxBefore))
}

// visit handles position i, whose scan table entry x is not zero: the
// keywords found from the pair t[i-1:i+1] and an anchor at i.
func (s *scanner) visit(i int, x uint8) {
	t := s.text
	if x&tKeyword != 0 && i+1 < len(t) {
		ks := s.set.keywords
		if h := triHash(t[i-1], t[i], t[i+1]); ks.tri[h/64]&(1<<(h%64)) != 0 { // ks.mayHold, inlined
			ks.at(t, i-1, int(x&tBack>>tBackShift), s.window)
		}
	}
	if a := x & tAnchor; a != 0 {
		s.anchorAt(a, i)
	}
}

// anchorAt runs the handler of anchor kind a at i.
func (s *scanner) anchorAt(a uint8, i int) {
	t := s.text
	switch a {
	case aDash:
		s.dash(i)
	case aUnderscore:
		s.underscore(i)
	case aA:
		s.upperA(i)
	case aJ:
		if i >= 2 && t[i-1] == 'y' && t[i-2] == 'e' && s.on[rJWT] {
			s.jwt(i - 2)
		}
	case aAssign:
		s.assign(i)
	case aQuote:
		// "password is '…'"
		if i >= 4 && t[i-1] == ' ' && t[i-2] == 's' && t[i-3] == 'i' && t[i-4] == ' ' {
			s.prose(i)
		}
	case aW:
		// "aws" before a 40-byte secret access key.
		if i >= 1 && lower(t[i-1]) == 'a' && lower(s.at(i+1)) == 's' && s.on[rAWSSecret] &&
			s.startsWord(i-1, cAlnum) && class[s.at(i+2)]&cAlnum == 0 {
			s.awsSecretAfter(i+2, 0.8)
		}
	case aBegin:
		if p := i - 5; p >= 0 && t[p:i] == "-----" && strings.HasPrefix(t[i:], "BEGIN ") &&
			(s.on[rPrivateKey] || s.on[rGCPService]) && s.dashPrefix(p) == 0 {
			s.pem(p)
		}
	}
}

// Token prefixes that end with '-', as dashPrefix finds them.
const (
	dashNone = iota
	dashSK
	dashGitLab
	dashSlack
)

// dashPrefix reports which token prefix ends with the '-' at p: "sk-",
// "glpat-" (with the GitLab rule on), "xox[abceprs]-" or "xapp-" (with the
// Slack rule on).
func (s *scanner) dashPrefix(p int) int {
	t := s.text
	switch {
	case p >= 2 && t[p-2] == 's' && t[p-1] == 'k' && s.startsWord(p-2, cWord):
		return dashSK
	case p >= 5 && t[p-5:p] == "glpat" && s.on[rGitLab] && s.startsWord(p-5, cWord):
		return dashGitLab
	case p >= 4 && (t[p-4:p-1] == "xox" && strings.IndexByte("abceprs", t[p-1]) >= 0 || t[p-4:p] == "xapp") &&
		s.on[rSlack] && s.startsWord(p-4, cWord):
		return dashSlack
	}
	return dashNone
}

// dash handles a '-' at p: "sk-", "glpat-", "xoxb-" (and xoxa-, xoxc-,
// xoxe-, xoxp-, xoxr-, xoxs-), "xapp-". ("-----BEGIN " is found at its 'B'.)
func (s *scanner) dash(p int) {
	t := s.text
	switch s.dashPrefix(p) {
	case dashSK:
		if strings.HasPrefix(t[p+1:], "ant-") {
			if s.on[rAnthropic] {
				s.simple(rAnthropic, p-2, p+5, cWord, 40, 250, 0, 0.95)
			}
		} else if s.on[rOpenAI] {
			s.openAI(p - 2)
		}
	case dashGitLab:
		s.simple(rGitLab, p-5, p+1, cWord, 20, 64, 0, 0.9)
	case dashSlack:
		s.slack(p - 4)
	}
}

// underscore handles a '_' at p: GitHub, Hugging Face, Stripe and Rampart
// keys.
func (s *scanner) underscore(p int) {
	t := s.text
	if p >= 3 && t[p-3] == 'g' && t[p-2] == 'h' && strings.IndexByte("pousr", t[p-1]) >= 0 {
		if s.on[rGitHub] && s.startsWord(p-3, cWord) {
			s.simple(rGitHub, p-3, p+1, cAlnum, 30, 251, cWord, 0.95)
		}
		return
	}
	if p >= 6 && t[p-6:p] == "github" && strings.HasPrefix(t[p:], "_pat_") {
		if s.on[rGitHub] && s.startsWord(p-6, cWord) {
			s.simple(rGitHub, p-6, p+5, cAlnum|cURL, 50, 250, cWord, 0.95)
		}
		return
	}
	if p < 2 {
		return
	}
	a, b := t[p-2], t[p-1]
	switch {
	case a == 'h' && b == 'f':
		if s.on[rHuggingFace] && s.startsWord(p-2, cWord) {
			s.simple(rHuggingFace, p-2, p+1, cAlnum, 30, 40, cWord, 0.9)
		}
	case (a == 's' || a == 'r') && b == 'k' && strings.HasPrefix(t[p:], "_live_"):
		if s.on[rStripe] && s.startsWord(p-2, cWord) {
			s.simple(rStripe, p-2, p+6, cAlnum, 20, 247, cWord, 0.95)
		}
	case a == 'r' && b == 'k':
		if s.on[rRampart] && s.startsWord(p-2, cWord) {
			s.rampart(p - 2)
		}
	}
}

// simple matches prefix text[start:body] followed by a token of class
// body bytes (cWord when body is 0) that looks random.
func (s *scanner) simple(r, start, body int, cls uint8, minLen, maxLen int, word uint8, score float64) {
	if word == 0 {
		word = cWord
	}
	end, st := s.token(body, cls, minLen, maxLen, word)
	switch st {
	case more:
		s.wait(start)
	case yes:
		if s.eof && looksRandom(s.text[body:end], 3.0) {
			s.add(r, start, end, score, "")
		}
	}
}

// openAI matches "sk-" keys: legacy sk-<48>, and sk-proj-, sk-svcacct-,
// sk-admin- keys.
func (s *scanner) openAI(start int) {
	body := start + 3
	end, st := s.token(body, cWord, 20, 250, cWord)
	if st == more {
		s.wait(start)
		return
	}
	if st != yes || !s.eof {
		return
	}
	key := s.text[body:end]
	if strings.HasPrefix(key, "or-") {
		return // OpenRouter: a pattern rule
	}
	for _, p := range [...]string{"proj-", "svcacct-", "admin-", "None-"} {
		if strings.HasPrefix(key, p) {
			key = key[len(p):]
			break
		}
	}
	if len(key) < 32 || !looksRandom(key, 4.0) {
		return
	}
	score := 0.85
	if strings.Contains(key, "T3BlbkFJ") {
		score = 0.98
	}
	s.add(rOpenAI, start, end, score, "")
}

// slack matches xox[abceprs]- and xapp- tokens, which carry numeric segments.
func (s *scanner) slack(start int) {
	body := start + 5
	end, st := s.token(body, cAlnum|cURL, 10, 250, cWord)
	if st == more {
		s.wait(start)
		return
	}
	if st != yes || !s.eof {
		return
	}
	tok := s.text[body:end]
	if !strings.ContainsAny(tok, "0123456789") || !strings.Contains(tok, "-") || !looksRandom(tok, 2.5) {
		return
	}
	s.add(rSlack, start, end, 0.9, "")
}

// rampart matches Rampart API keys: rk_ + 12 base62 + _ + 40 base62.
func (s *scanner) rampart(start int) {
	t := s.text
	i := start + 3
	j := i
	for j < len(t) && j < i+12 && class[t[j]]&cAlnum != 0 {
		j++
	}
	if j == len(t) {
		if !s.eof {
			s.wait(start)
		}
		return
	}
	if j < i+12 || t[j] != '_' {
		return
	}
	end, st := s.token(j+1, cAlnum, 40, 40, cWord)
	switch st {
	case more:
		s.wait(start)
	case yes:
		if looksRandom(t[j+1:end], 3.5) {
			s.add(rRampart, start, end, 0.99, "")
		}
	}
}

// upperA handles an 'A' at p: AWS key IDs (AKIA, ASIA, ABIA, ACCA,
// A3T[A-Z0-9]) with a secret key
// after them, and Google API keys (AIza).
func (s *scanner) upperA(p int) {
	t := s.text
	if len(t)-p < 4 {
		return
	}
	id := t[p : p+4]
	if id[:3] == "A3T" && class[id[3]]&(cUpper|cDigit) != 0 {
		id = "A3T?"
	}
	switch id {
	case "AKIA", "ASIA", "ABIA", "ACCA", "A3T?":
		if !(s.on[rAWSKeyID] || s.on[rAWSSecret]) || !s.startsWord(p, cAlnum) {
			return
		}
		end, st := s.token(p+4, cUpper|cDigit, 16, 16, cAlnum)
		if st == more {
			s.wait(p)
			return
		}
		if st != yes {
			return
		}
		if s.eof && (strings.HasSuffix(t[p:end], "EXAMPLE") || containsFold(t[p:end], "fake") || !looksRandom(t[p+4:end], 2.5)) {
			return
		}
		if s.on[rAWSKeyID] {
			s.add(rAWSKeyID, p, end, 0.9, "")
		}
		if s.on[rAWSSecret] {
			s.awsSecretAfter(end, 0.9)
		}
	case "AIza":
		if s.on[rGCPAPIKey] && s.startsWord(p, cWord) {
			end, st := s.token(p+4, cWord, 35, 35, cWord)
			switch st {
			case more:
				s.wait(p)
			case yes:
				if looksRandom(t[p+4:end], 3.0) {
					s.add(rGCPAPIKey, p, end, 0.9, "")
				}
			}
		}
	}
}

// awsSecretAfter looks for 40-byte base64 tokens starting within awsContext
// bytes after an AWS key ID or the word "aws" that ends at from.
func (s *scanner) awsSecretAfter(from int, score float64) {
	t := s.text
	lim := min(len(t), from+awsContext)
	for i := from; i < lim; i++ {
		if class[t[i]]&cBase64 == 0 || i > 0 && class[t[i-1]]&(cBase64|cURL) != 0 {
			continue
		}
		s.awsSecret(i, score)
	}
}

// awsSecret matches a 40-byte base64 AWS secret key at i.
func (s *scanner) awsSecret(i int, score float64) {
	end, st := s.token(i, cBase64, 40, 40, cBase64|cURL|cDot)
	if st == more {
		s.wait(i)
		return
	}
	if st != yes || !s.eof {
		return
	}
	// '=' padding would make it some other base64 value.
	if s.at(end) == '=' {
		return
	}
	v := s.text[i:end]
	if strings.Contains(v, "EXAMPLE") || containsFold(v, "fake") || !looksRandom(v, 4.0) || !hasAll(v, cUpper|cLower) {
		return
	}
	s.add(rAWSSecret, i, end, score, "")
}

// jwt matches header.payload.signature with a JSON header.
func (s *scanner) jwt(p int) {
	t := s.text
	if !s.startsWord(p, cWord|cDot) {
		return
	}
	h, st := s.token(p, cWord, 10, 1024, cWord)
	if st == more {
		s.wait(p)
		return
	}
	if st != yes || h >= len(t) || t[h] != '.' {
		return
	}
	if rest := t[h+1:]; len(rest) < 3 {
		if !s.eof && strings.HasPrefix("eyJ", rest) {
			s.wait(p)
		}
		return
	} else if !strings.HasPrefix(rest, "eyJ") {
		return
	}
	pl, st := s.token(h+1, cWord, 10, 6000, cWord)
	if st == more {
		s.wait(p)
		return
	}
	if st != yes || pl >= len(t) || t[pl] != '.' {
		return
	}
	end, st := s.token(pl+1, cWord, 0, 1100, cWord)
	if st == more {
		s.wait(p)
		return
	}
	if st != yes || !s.eof {
		return
	}
	hdr, err := base64.RawURLEncoding.DecodeString(t[p:h])
	if err != nil {
		return
	}
	if !strings.Contains(string(hdr), `"alg"`) && !strings.Contains(string(hdr), `"typ"`) {
		return
	}
	s.add(rJWT, p, end, 0.95, "")
}

// looksRandom reports whether a token looks like a random key rather than
// a placeholder or a word: at least two of upper case, lower case and
// digits, Shannon entropy of at least minBits per byte, no byte repeated
// five times in a row and no five-byte ascending run ("abcde", "12345").
func looksRandom(v string, minBits float64) bool {
	var cls uint8
	for i := 0; i < len(v); i++ {
		cls |= class[v[i]] & cAlnum
	}
	n := 0
	for _, c := range [...]uint8{cDigit, cUpper, cLower} {
		if cls&c != 0 {
			n++
		}
	}
	if n < 2 {
		return false
	}
	rep, asc := 1, 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1] {
			rep++
			if rep >= 5 {
				return false
			}
		} else {
			rep = 1
		}
		if v[i] == v[i-1]+1 {
			asc++
			if asc >= 5 {
				return false
			}
		} else {
			asc = 1
		}
	}
	return entropy(v) >= minBits
}

// hasAll reports whether v has a byte of every class in cls.
func hasAll(v string, cls uint8) bool {
	var got uint8
	for i := 0; i < len(v); i++ {
		got |= class[v[i]]
	}
	return got&cls == cls
}

// entropy is the Shannon entropy of v's bytes, in bits per byte.
func entropy(v string) float64 {
	if len(v) == 0 {
		return 0
	}
	var counts [256]uint16
	for i := 0; i < len(v); i++ {
		counts[v[i]]++
	}
	n := float64(len(v))
	h := 0.0
	for _, c := range counts {
		if c != 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
