package exfil

import (
	"math"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// verdict is the judgement of one URL.
type verdict struct {
	score float64
	dns   bool // most of the data is in subdomain labels
}

// Weights of the score (see docs/detectors/exfil-and-comparison.md). They were set by
// hand from what the fields of benign and exfiltrating URLs look like, not
// fitted to the evaluation set.
const (
	slope       = 2.0  // logistic slope per unit of ln(1+bytes)
	allowImage  = 24.0 // data bytes an auto-loading URL may carry at score 0.5
	allowRefDef = 32.0 // … a reference definition not seen used by an image
	allowLink   = 32.0 // … a clickable link
	allowBare   = 48.0 // … a bare URL in text
	wPath       = 0.7  // path segments carry ids (documents, commits) more often than data
	wHash       = 0.5  // a hex run of a hash's length (32, 40, 64) in a path
	wText       = 0.5  // free text (words joined by + or %20) per byte
	wFragment   = 0.5  // a fragment is not sent with the request
	wSigned     = 0.0  // values of URL-signing parameters (S3, GCS, Azure SAS, CloudFront)
	bonusIP     = 3.0  // a public IP-literal host (its whole query counts as data)
	bonusQuery  = 1.0  // query plus fragment over max_query_bytes
	bonusQuery4 = 0.5  // … over four times max_query_bytes
	scoreScript = 0.9  // javascript: or vbscript: in an image
	scoreScrLnk = 0.8  // … in a link
	scoreData   = 0.6  // data: in an image
	scoreDataLk = 0.55 // data: in a link
	minRun      = 16   // shortest run of encoded-looking bytes counted
)

func allowance(k kind) float64 {
	switch k {
	case kImage, kLoad, kRefImage:
		return allowImage
	case kRefDef:
		return allowRefDef
	case kLink:
		return allowLink
	}
	return allowBare
}

// judge scores a URL found in a construct of kind k.
func (d *Detector) judge(u string, k kind) verdict {
	u = strings.TrimSpace(u)
	if u == "" {
		return verdict{}
	}
	scheme, rest := splitScheme(u)
	switch {
	case scheme == "":
		if len(rest) >= 2 && (rest[0] == '/' || rest[0] == '\\') && (rest[1] == '/' || rest[1] == '\\') {
			return d.judgeHTTP(rest[2:], k)
		}
		return verdict{} // relative: same origin
	case strings.EqualFold(scheme, "javascript"), strings.EqualFold(scheme, "vbscript"):
		if k.autoLoads() {
			return verdict{score: scoreScript}
		}
		return verdict{score: scoreScrLnk}
	case strings.EqualFold(scheme, "data"):
		if k.autoLoads() {
			return verdict{score: scoreData}
		}
		return verdict{score: scoreDataLk}
	case strings.EqualFold(scheme, "mailto"):
		return d.judgeMailto(rest, k)
	case strings.EqualFold(scheme, "http"), strings.EqualFold(scheme, "https"),
		strings.EqualFold(scheme, "ftp"), strings.EqualFold(scheme, "ws"), strings.EqualFold(scheme, "wss"):
		rest = strings.TrimLeft(rest, "/\\")
		return d.judgeHTTP(rest, k)
	}
	return verdict{}
}

// splitScheme splits "scheme:rest"; scheme is "" when u has none.
func splitScheme(u string) (scheme, rest string) {
	for i := 0; i < len(u) && i <= 32; i++ {
		c := u[i]
		switch {
		case isAlpha(c):
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return u[:i], u[i+1:]
		default:
			return "", u
		}
	}
	return "", u
}

// judgeHTTP scores "authority/path?query#fragment".
func (d *Detector) judgeHTTP(u string, k kind) verdict {
	a := len(u)
	for i := 0; i < len(u); i++ {
		if c := u[i]; c == '/' || c == '?' || c == '#' || c == '\\' {
			a = i
			break
		}
	}
	auth, rest := u[:a], u[a:]
	var user string
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		user, auth = auth[:at], auth[at+1:]
	}
	host := hostOf(auth)
	var f fields
	f.text = wText
	f.add(user, 1)
	ip := isPublicIP(host)
	norm, ok := normaliseHost(host)
	if !ok {
		return verdict{}
	}
	if d.allowed(norm) {
		return verdict{}
	}
	var dnsBytes float64
	if !ip {
		dnsBytes = subdomainBytes(norm)
	}
	path, query, frag := splitPath(rest)
	for seg := range strings.SplitSeq(path, "/") {
		f.addPath(seg)
	}
	f.addQuery(query)
	f.add(frag, wFragment)
	z := 0.0
	if ip {
		z += bonusIP
		f.bytes += float64(len(query))
	}
	if q := f.plain + len(frag); q > d.maxQuery {
		z += bonusQuery
		if q > 4*d.maxQuery {
			z += bonusQuery4
		}
		f.bytes += float64(q - d.maxQuery)
	}
	e := f.bytes + dnsBytes
	v := verdict{dns: dnsBytes > f.bytes}
	if k.autoLoads() && d.blockUnlisted && len(d.allow) > 0 {
		v.score = unlisted
	}
	if e == 0 && z == 0 {
		return v
	}
	z += slope * (math.Log1p(e) - math.Log1p(allowance(k)))
	v.score = max(v.score, 1/(1+math.Exp(-z)))
	return v
}

// judgeMailto scores "addr?subject=…&body=…": the query is what a mail
// client would send.
func (d *Detector) judgeMailto(u string, k kind) verdict {
	addr, query, _ := strings.Cut(u, "?")
	host := addr
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		host = addr[at+1:]
	}
	if norm, ok := normaliseHost(host); ok && d.allowed(norm) {
		return verdict{}
	}
	var f fields
	f.text = wText
	f.addQuery(query)
	if f.bytes == 0 {
		return verdict{}
	}
	z := slope * (math.Log1p(f.bytes) - math.Log1p(allowance(k)))
	return verdict{score: 1 / (1 + math.Exp(-z))}
}

// hostOf strips the port from an authority.
func hostOf(auth string) string {
	if strings.HasPrefix(auth, "[") {
		if e := strings.IndexByte(auth, ']'); e >= 0 {
			return auth[:e+1]
		}
		return auth
	}
	if c := strings.LastIndexByte(auth, ':'); c >= 0 {
		return auth[:c]
	}
	return auth
}

// normaliseHost lowercases a host and converts an internationalised name
// to punycode; it allocates only for hosts that need it.
func normaliseHost(h string) (string, bool) {
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return "", false
	}
	plain := true
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' || c == '%' {
			plain = false
			break
		}
	}
	if plain {
		return h, true
	}
	a, err := idna.Lookup.ToASCII(h)
	if err != nil {
		// Not a valid name: judge its lowercase form.
		return strings.ToLower(h), true
	}
	return a, true
}

func (d *Detector) allowed(host string) bool {
	for _, a := range d.allow {
		if host == a || len(host) > len(a) && host[len(host)-len(a)-1] == '.' && strings.HasSuffix(host, a) {
			return true
		}
	}
	return false
}

// isPublicIP reports whether a host is an IP literal that is not
// loopback, private, link-local or unspecified: [v6], dotted or integer
// IPv4 (decimal, octal or hex forms that browsers accept).
func isPublicIP(h string) bool {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		return err != nil || public(a)
	}
	if h == "" || h[0] < '0' || h[0] > '9' {
		return false
	}
	dots, digits := 0, true
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			digits = false
		}
	}
	if digits && dots == 3 {
		if a, err := netip.ParseAddr(h); err == nil {
			return public(a)
		}
	}
	if h == "" {
		return false
	}
	hex := false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9', c == '.':
		case (c == 'x' || c == 'X') && i > 0 && h[i-1] == '0':
			hex = true
		case hex && (c|0x20 >= 'a' && c|0x20 <= 'f'):
		default:
			return false
		}
	}
	return true
}

// subdomainBytes estimates the bytes of data carried by the labels left of
// the registrable domain (eTLD+1): the concatenated labels when they look
// encoded, plus whatever exceeds 40 bytes or three labels.
func subdomainBytes(host string) float64 {
	// The labels left of eTLD+1 lie within those left of the last two:
	// when these are too few and short to score, skip the suffix lookup
	// (which allocates).
	left, labels := len(host), 0
	for i := len(host) - 1; i >= 0 && labels < 2; i-- {
		if host[i] == '.' {
			labels++
			left = i
		}
	}
	if labels < 2 || left < 12 && strings.Count(host[:left], ".") < 3 {
		return 0
	}
	suffix, _ := publicsuffix.PublicSuffix(host)
	if len(host) <= len(suffix)+1 {
		return 0
	}
	rest := host[:len(host)-len(suffix)-1]
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return 0
	}
	sub := rest[:dot]
	var st runStats
	labels = 1
	for i := 0; i < len(sub); i++ {
		if sub[i] == '.' {
			labels++
			continue
		}
		st.add(sub[i])
	}
	b := 0.0
	if st.encoded(true) {
		b = float64(st.n)
	}
	if len(sub) > 40 {
		b += float64(len(sub) - 40)
	}
	if labels > 3 {
		b += float64(8 * (labels - 3))
	}
	return b
}

func public(a netip.Addr) bool {
	return !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsUnspecified()
}

func splitPath(rest string) (path, query, frag string) {
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, frag = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	return rest, query, frag
}

// fields adds up the bytes of data a URL's parts appear to carry.
type fields struct {
	bytes float64
	text  float64
	plain int // bytes of query fields other than signing parameters
}

func (f *fields) addPath(seg string) {
	f.bytes += wPath * f.value(seg, true)
}

func (f *fields) addQuery(q string) {
	for q != "" {
		var kv string
		i := strings.IndexByte(q, '&')
		if i < 0 {
			kv, q = q, ""
		} else {
			kv, q = q[:i], q[i+1:]
		}
		kv = strings.TrimPrefix(kv, "amp;")
		key, val, _ := strings.Cut(kv, "=")
		w := 1.0
		if signingKey(key) {
			w = wSigned
		}
		f.add(key, w)
		f.add(val, w)
		if w > 0 {
			f.plain += len(kv) + 1
		}
	}
}

func (f *fields) add(v string, w float64) {
	if v != "" {
		f.bytes += w * f.value(v, false)
	}
}

// value returns the bytes of data a URL component appears to carry: the
// length of every run that looks encoded (base64, base64url, hex, base32),
// the whole component when it holds an e-mail address, and a share of it
// when it is free text (two or more words, or eight or more
// percent-escapes).
func (f *fields) value(v string, path bool) float64 {
	b := 0.0
	var st runStats
	flush := func() {
		if st.n >= minRun && st.encoded(false) {
			n := float64(st.n)
			if path && st.hexOnly() && (st.n == 32 || st.n == 40 || st.n == 64) {
				n *= wHash
			}
			b += n
		}
		st = runStats{}
	}
	words, pct := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			flush()
			if v[i+1] == '2' && v[i+2] == '0' {
				words++
			} else {
				pct++
			}
			i += 2
		case c == '+' && !looksBase64(v):
			flush()
			words++
		case isAlnum(c) || c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
			st.add(c)
		default:
			flush()
			if c == ' ' {
				words++
			}
		}
	}
	flush()
	switch {
	case hasEmail(v):
		b = max(b, float64(len(v)))
	case words >= 2 || pct >= 8:
		b += f.text * float64(len(v))
	}
	return b
}

// looksBase64 reports whether '+' in v is more likely base64 than a space:
// v has no run of three lowercase letters next to a '+'.
func looksBase64(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != '+' {
			continue
		}
		if i >= 3 && isLower(v[i-1]) && isLower(v[i-2]) && isLower(v[i-3]) ||
			i+3 < len(v) && isLower(v[i+1]) && isLower(v[i+2]) && isLower(v[i+3]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// hasEmail reports whether v holds "x@y.z" (the '@' possibly escaped as
// %40).
func hasEmail(v string) bool {
	for i := 1; i < len(v); i++ {
		n := 0
		switch {
		case v[i] == '@':
			n = 1
		case v[i] == '%' && i+2 < len(v) && v[i+1] == '4' && v[i+2] == '0':
			n = 3
		default:
			continue
		}
		if !isAlnum(v[i-1]) || i+n >= len(v) || !isAlnum(v[i+n]) {
			continue
		}
		if d := strings.IndexByte(v[i+n:], '.'); d > 0 && i+n+d+1 < len(v) && isAlpha(v[i+n+d+1]) {
			return true
		}
	}
	return false
}
func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

// signingKey reports whether a query key is a URL-signing parameter whose
// value is expected to be high-entropy.
func signingKey(k string) bool {
	if len(k) > 6 && (strings.EqualFold(k[:6], "x-amz-") || strings.EqualFold(k[:6], "x-goog")) {
		return true
	}
	switch strings.ToLower(k) {
	case "signature", "sig", "policy", "key-pair-id", "expires", "se", "sp", "sv", "sr", "spr", "srt", "ss", "st", "skoid", "sktid", "skt", "ske", "sks", "skv", "googleaccessid":
		return true
	}
	return false
}

// runStats describes a run of bytes for the encodedness test.
type runStats struct {
	n                       int
	upper, lower, digit     int
	other                   int // - _ + / =
	hexLetters, caseChanges int
	last                    byte // the last letter
	counts                  [128]uint16
}

func (r *runStats) add(c byte) {
	r.n++
	if c < 128 && r.counts[c] < math.MaxUint16 {
		r.counts[c]++
	}
	switch {
	case c >= 'A' && c <= 'Z':
		r.upper++
		if isLower(r.last) {
			r.caseChanges++
		}
		r.last = c
	case c >= 'a' && c <= 'z':
		r.lower++
		if c <= 'f' {
			r.hexLetters++
		}
		if r.last >= 'A' && r.last <= 'Z' {
			r.caseChanges++
		}
		r.last = c
	case c >= '0' && c <= '9':
		r.digit++
	default:
		r.other++
	}
}

func (r *runStats) hexOnly() bool {
	return r.upper == 0 && r.other == 0 && r.lower == r.hexLetters
}

// entropy is the Shannon entropy of the run in bits per byte.
func (r *runStats) entropy() float64 {
	h := 0.0
	n := float64(r.n)
	for _, c := range r.counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// encoded reports whether the run looks like encoded data rather than
// words, slugs or numbers. Hex needs digits and letters and 2.8 bits per
// byte; mixed-case runs (base64) digits or symbols, both cases changing at
// least every fifth letter and an entropy of 80 % of what a random run of
// their length would have; lowercase or uppercase runs with digits (base32,
// DNS labels) at least 20 bytes without separators and 75 %.
func (r *runStats) encoded(dns bool) bool {
	least := minRun
	if dns {
		least = 12
	}
	if r.n < least {
		return false
	}
	h := r.entropy()
	rel := func(alphabet float64) float64 {
		return h / math.Log2(math.Min(float64(r.n), alphabet))
	}
	switch {
	case r.hexOnly() || r.lower == 0 && r.other == 0 && r.upper > 0 && r.upper == countHexUpper(r):
		return r.digit > 0 && r.n > r.digit && h >= 2.8
	case r.upper > 0 && r.lower > 0:
		return (r.digit > 0 || r.other > 0) && r.caseChanges*5 >= r.upper+r.lower && rel(64) >= 0.8
	default:
		return r.other == 0 && r.digit >= 2 && r.upper+r.lower >= 2 && (dns || r.n >= 20) && rel(32) >= 0.75
	}
}

func countHexUpper(r *runStats) int {
	n := 0
	for c := byte('A'); c <= 'F'; c++ {
		n += int(r.counts[c])
	}
	return n
}
