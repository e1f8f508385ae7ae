package exfil

import (
	"strings"

	"github.com/rampartsec/rampart/detect"
)

// Bounds of the constructs the scanner recognises, in bytes.
const (
	maxText     = 1024        // link text or alt text, searched back from its ']'
	maxURL      = 4096        // a URL; longer ones are reported as overlong
	maxTitle    = 256         // a link title
	maxWS       = 64          // whitespace between the parts of a construct
	maxTag      = 8192        // an HTML tag from '<' to '>'
	maxSpan     = maxTag + 1  // the longest hit plus the byte that ends it
	maxEsc      = 32          // backslashes counted before a bracket
	defWindow   = maxText * 4 // where a reference definition's image uses are looked for
	minScore    = 0.05        // hits scoring less are not reported
	maxSchem    = 10          // letters of a bare URL's scheme
	maxParens   = 32          // nesting of parentheses in a link destination
	maxBrackets = 16          // brackets passed looking for a link text's '['
	overImage   = 0.9         // score of an overlong image URL
	overLink    = 0.7         // score of an overlong link URL
	unlisted    = 0.9         // score of an image outside the allowlist
	maxTagNm    = 32          // an HTML tag name or autolink scheme
	maxNest     = 4           // links nested in link text reduced by Replacement
	noOpen      = -1          // openOf: no '[' opens the text
	tooFar      = -2          // openOf: the text is longer than maxText
	ranOut      = -3          // a construct ran off the end of a text that may grow
	invalid     = -4          // not a construct
	overlong    = -5          // a URL longer than maxURL
)

// kind is the kind of construct a URL was found in; it sets how much data
// the URL may carry before it is suspicious.
type kind uint8

const (
	kImage    kind = iota // markdown inline image
	kLoad                 // HTML element that fetches its URL without a click
	kRefImage             // reference definition used by an image before it
	kRefDef               // reference definition
	kLink                 // markdown inline link, <a href>, autolink
	kBare                 // bare URL in text
)

func (k kind) autoLoads() bool { return k <= kRefImage }

// construct is a link found by the scanner in "all" mode (Replacement).
type construct struct{ start, end int }

// scanner finds links in text and judges them.
type scanner struct {
	text     string
	eof      bool // the text is complete (Detect) rather than a prefix (Hold)
	d        *Detector
	pending  int // the earliest construct that ran off a growing text
	hits     []detect.Hit
	urlSkip  int // '<' and ':' before this offset lie in a parsed URL or tag
	dstSkip  int // ']' before this offset lies in a link destination
	lastBang int // the last "![" before the current ']', or -1

	all  bool // collect every construct, judged or not (Replacement)
	cons []construct

	uses  [maxUses]imageUse // the latest image uses of references
	nUses int
}

func indexFrom(s string, c byte, from int) int {
	if from >= len(s) {
		return -1
	}
	i := strings.IndexByte(s[from:], c)
	if i < 0 {
		return -1
	}
	return i + from
}

// scan visits every trigger byte in order: ']' (markdown links, images and
// reference definitions), '<' (autolinks and HTML tags) and, with bare
// URLs on, ':' ("://").
func (s *scanner) scan() {
	t := s.text
	nb := indexFrom(t, ']', 0)
	nl := indexFrom(t, '<', 0)
	nx := -1 // the next "![" not yet passed
	if nb >= 0 {
		nx = strings.Index(t, "![")
	}
	nc := -1
	if s.d.bare && !s.all {
		nc = indexFrom(t, ':', 0)
	}
	for {
		i, c := -1, byte(0)
		if nb >= 0 {
			i, c = nb, ']'
		}
		if nl >= 0 && (i < 0 || nl < i) {
			i, c = nl, '<'
		}
		if nc >= 0 && (i < 0 || nc < i) {
			i, c = nc, ':'
		}
		if i < 0 {
			return
		}
		switch c {
		case ']':
			for nx >= 0 && nx < i {
				s.lastBang = nx
				nx = strings.Index(t[nx+2:], "![")
				if nx >= 0 {
					nx += s.lastBang + 2
				}
			}
			if i >= s.dstSkip {
				s.bracket(i)
			}
			nb = indexFrom(t, ']', max(i+1, s.dstSkip))
		case '<':
			if i >= s.urlSkip {
				s.angle(i)
			}
			nl = indexFrom(t, '<', i+1)
		case ':':
			if i >= s.urlSkip {
				s.bareURL(i)
			}
			nc = indexFrom(t, ':', i+1)
		}
	}
}

func (s *scanner) wait(start int) {
	if !s.eof {
		s.pending = min(s.pending, max(start, 0))
	}
}

// escaped reports whether the byte at i is escaped by an odd number of
// backslashes (at most maxEsc are counted).
func escaped(t string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && n < maxEsc && t[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// openOf returns the '[' that opens the bracketed text closed by the ']'
// at j, looking back no further than maxText bytes, maxBrackets brackets
// and floor; noOpen when none does (or a blank line intervenes, or the
// brackets are too many), tooFar when the search stopped at its byte
// bound. The bracket bound keeps a text of brackets linear: a byte is
// looked at from at most maxBrackets triggers.
func openOf(t string, j, floor int) int {
	depth, seen := 0, 0
	stop := max(floor, j-maxText)
	for k := j - 1; k >= stop; k-- {
		switch t[k] {
		case ']':
			if seen++; seen > maxBrackets {
				return noOpen
			}
			if !escaped(t, k) {
				depth++
			}
		case '[':
			if seen++; seen > maxBrackets {
				return noOpen
			}
			if !escaped(t, k) {
				if depth == 0 {
					return k
				}
				depth--
			}
		case '\n':
			if k > 0 && (t[k-1] == '\n' || t[k-1] == '\r' && k > 1 && t[k-2] == '\n') {
				return noOpen
			}
		}
	}
	if stop > floor {
		return tooFar
	}
	return noOpen
}

// closeOf returns the ']' that closes the '[' at k, or -1.
func closeOf(t string, k int) int {
	depth, seen := 0, 0
	for i := k + 1; i < len(t) && i-k <= maxText+1 && seen <= maxBrackets; i++ {
		switch t[i] {
		case '\\':
			i++
		case '[':
			seen++
			depth++
		case ']':
			seen++
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// skipWS skips spaces and tabs and at most one line break.
func skipWS(t string, p int) int {
	nl := false
	for n := 0; p < len(t) && n < maxWS; n++ {
		switch t[p] {
		case ' ', '\t':
		case '\r':
		case '\n':
			if nl {
				return p
			}
			nl = true
		default:
			return p
		}
		p++
	}
	return p
}

// dest parses a link destination at p: <…> or a run of non-space bytes
// with balanced parentheses. It returns the URL, the offset after it, how
// far it read, and ok; on failure end is ranOut, invalid or overlong.
func dest(t string, p int) (u string, end, read int, ok bool) {
	if p < len(t) && t[p] == '<' {
		for q := p + 1; q < len(t); q++ {
			if q-p > maxURL {
				return "", overlong, q, false
			}
			switch t[q] {
			case '\\':
				q++
			case '\n', '<':
				return "", invalid, q, false
			case '>':
				return t[p+1 : q], q + 1, q + 1, true
			}
		}
		return "", ranOut, len(t), false
	}
	depth := 0
	q := p
	for ; q < len(t); q++ {
		if q-p > maxURL {
			return "", overlong, q, false
		}
		c := t[q]
		if c <= ' ' || c == 0x7f {
			break
		}
		switch c {
		case '\\':
			if q+1 < len(t) && t[q+1] > ' ' {
				q++
			}
		case '(':
			depth++
			if depth > maxParens {
				return "", invalid, q, false
			}
		case ')':
			if depth == 0 {
				return t[p:q], q, q, true
			}
			depth--
		}
	}
	if q == len(t) {
		return "", ranOut, q, false
	}
	if depth != 0 || q == p {
		return "", invalid, q, false
	}
	return t[p:q], q, q, true
}

// title skips an optional link title at p ("…", '…' or (…)) and returns the
// offset after it.
func title(t string, p int) int {
	if p >= len(t) {
		return p
	}
	closer := byte(0)
	switch t[p] {
	case '"':
		closer = '"'
	case '\'':
		closer = '\''
	case '(':
		closer = ')'
	default:
		return p
	}
	for q := p + 1; q < len(t); q++ {
		if q-p > maxTitle {
			return invalid
		}
		switch t[q] {
		case '\\':
			q++
		case closer:
			return q + 1
		}
	}
	return ranOut
}

// bracket handles the ']' at j: an inline link or image "](", or a
// reference definition "]:".
func (s *scanner) bracket(j int) {
	t := s.text
	if escaped(t, j) {
		return
	}
	if j+1 >= len(t) {
		k := openOf(t, j, 0)
		if k < 0 {
			k = j - maxText - 1
		} else if k > 0 && t[k-1] == '!' {
			k--
		}
		s.wait(k)
		return
	}
	switch t[j+1] {
	case '(':
		s.inline(j)
	case ':':
		if !s.all {
			s.refDef(j)
		}
	default:
		if !s.all && s.lastBang >= 0 && j-s.lastBang <= maxText+1 {
			s.imageRef(j)
		}
	}
}

// inline handles "[text](url "title")" and "![alt](url)" closed at j.
func (s *scanner) inline(j int) {
	t := s.text
	k := openOf(t, j, 0)
	start, img := k, false
	switch {
	case k == tooFar:
		// Text longer than the bound: judge the URL as an image, the
		// stricter reading, from the "](".
		start, img = j, true
	case k < 0:
		start = -1
	case k > 0 && t[k-1] == '!' && !escaped(t, k-1):
		start, img = k-1, true
	}
	p := skipWS(t, j+2)
	if p >= len(t) {
		s.waitOr(start, j)
		return
	}
	u, q, read, ok := dest(t, p)
	s.dstSkip = max(s.dstSkip, min(read, len(t)))
	if !ok {
		switch q {
		case ranOut:
			s.waitOr(start, j)
		case overlong:
			s.urlSkip = max(s.urlSkip, p+maxURL)
			if start >= 0 {
				s.overlong(start, min(p+maxURL+1, len(t)), img)
			}
		}
		return
	}
	s.urlSkip = max(s.urlSkip, q)
	r := skipWS(t, q)
	if r > q {
		r = title(t, r)
		if r == ranOut {
			s.waitOr(start, j)
			return
		}
		if r == invalid {
			return
		}
		r = skipWS(t, r)
	}
	if r >= len(t) {
		s.waitOr(start, j)
		return
	}
	if t[r] != ')' || start < 0 {
		return
	}
	end := r + 1
	if s.all {
		s.cons = append(s.cons, construct{start, end})
		return
	}
	if img {
		s.judge(start, end, u, kImage)
	} else {
		s.judge(start, end, u, kLink)
	}
}

func (s *scanner) waitOr(start, j int) {
	if start < 0 {
		start = j - maxText - 1
	}
	s.wait(start)
}

// refDef handles "[label]: url "title"" closed at j, which must start a
// line (after at most three spaces).
func (s *scanner) refDef(j int) {
	t := s.text
	k := openOf(t, j, 0)
	if k < 0 || k+1 == j || !lineStart(t, k) {
		return
	}
	label := t[k+1 : j]
	p := j + 2
	for p < len(t) && (t[p] == ' ' || t[p] == '\t') && p-j < maxWS {
		p++
	}
	if p < len(t) && (t[p] == '\n' || t[p] == '\r') {
		p = skipWS(t, p)
	}
	if p >= len(t) {
		s.wait(k)
		return
	}
	u, q, read, ok := dest(t, p)
	s.dstSkip = max(s.dstSkip, min(read, len(t)))
	if !ok {
		switch q {
		case ranOut:
			s.wait(k)
		case overlong:
			s.urlSkip = max(s.urlSkip, p+maxURL)
			s.overlong(k, min(p+maxURL+1, len(t)), true)
		}
		return
	}
	s.urlSkip = max(s.urlSkip, q)
	r := q
	for r < len(t) && (t[r] == ' ' || t[r] == '\t') && r-q < maxWS {
		r++
	}
	if r > q && r < len(t) && t[r] != '\n' && t[r] != '\r' {
		r = title(t, r)
		if r == ranOut {
			s.wait(k)
			return
		}
		if r == invalid {
			return
		}
		for r < len(t) && (t[r] == ' ' || t[r] == '\t') && r-q < maxWS+maxTitle {
			r++
		}
	}
	if r >= len(t) {
		if !s.eof {
			s.wait(k)
			return
		}
	} else if t[r] != '\n' && t[r] != '\r' {
		return
	}
	kd := kRefDef
	if s.usedAsImage(k, label) {
		kd = kRefImage
	}
	s.judge(k, r, u, kd)
}

// lineStart reports whether the '[' at k starts a line, after at most
// three spaces.
func lineStart(t string, k int) bool {
	for n := 0; n <= 3; n++ {
		i := k - 1 - n
		if i < 0 || t[i] == '\n' || t[i] == '\r' {
			return true
		}
		if t[i] != ' ' {
			return false
		}
	}
	return false
}

// imageUse is a reference used by an image: "![alt][label]", "![label][]"
// or "![label]" starting at pos.
type imageUse struct {
	pos   int
	label string
}

// maxUses is how many of the latest image uses a scanner remembers.
const maxUses = 16

// use records an image use.
func (s *scanner) use(pos int, label string) {
	s.uses[s.nUses%maxUses] = imageUse{pos, label}
	s.nUses++
}

// usedAsImage reports whether one of the latest image uses in the
// defWindow bytes before k uses label.
func (s *scanner) usedAsImage(k int, label string) bool {
	for i := range min(s.nUses, maxUses) {
		u := s.uses[i]
		if u.pos < k && u.pos >= k-defWindow && strings.EqualFold(u.label, label) {
			return true
		}
	}
	return false
}

// imageRef records the image use whose first bracketed text ends at the
// ']' at j, which is not followed by '(' or ':'.
func (s *scanner) imageRef(j int) {
	t := s.text
	k := openOf(t, j, 0)
	if k < 1 || t[k-1] != '!' || escaped(t, k-1) {
		return
	}
	label := t[k+1 : j]
	if j+1 < len(t) && t[j+1] == '[' {
		e := closeOf(t, j+1)
		if e < 0 {
			return
		}
		if e > j+2 {
			label = t[j+2 : e]
		}
	}
	s.use(k-1, label)
}

// angle handles the '<' at i: an autolink <scheme:…> or an HTML tag.
func (s *scanner) angle(i int) {
	t := s.text
	if i+1 >= len(t) {
		s.wait(i)
		return
	}
	if !isAlpha(t[i+1]) {
		return
	}
	p := i + 1
	for p < len(t) && p-i <= maxTagNm && (isAlnum(t[p]) || t[p] == '+' || t[p] == '.' || t[p] == '-') {
		p++
	}
	if p >= len(t) {
		s.wait(i)
		return
	}
	name := t[i+1 : p]
	if t[p] == ':' && len(name) >= 2 && len(name) <= maxTagNm {
		s.autolink(i, p)
		return
	}
	if isSpace(t[p]) || t[p] == '>' || t[p] == '/' {
		s.tag(i, name, p)
	}
}

// autolink handles <scheme:…> whose ':' is at p.
func (s *scanner) autolink(i, p int) {
	t := s.text
	for q := p + 1; q < len(t); q++ {
		if q-i > maxURL {
			s.urlSkip = max(s.urlSkip, q)
			s.overlong(i, q, false)
			return
		}
		switch c := t[q]; {
		case c == '>':
			s.urlSkip = max(s.urlSkip, q+1)
			if s.all {
				s.cons = append(s.cons, construct{i, q + 1})
				return
			}
			s.judge(i, q+1, t[i+1:q], kLink)
			return
		case c <= ' ' || c == '<':
			return
		}
	}
	s.wait(i)
}

// tag handles an HTML start tag named name whose attributes start at p.
func (s *scanner) tag(i int, name string, p int) {
	t := s.text
	var best verdict
	bestKind := kLink
	found := false
	a := attrs{t: t, p: p, limit: min(len(t), i+maxTag)}
	for a.next() {
		k, ok := attrKind(name, a.name)
		if !ok || s.all {
			continue
		}
		found = true
		if !s.d.links && !k.autoLoads() {
			continue
		}
		if strings.EqualFold(a.name, "style") {
			eachCSSURL(a.val, func(u string) {
				if v := s.d.judge(u, kLoad); v.score > best.score {
					best, bestKind = v, kLoad
				}
			})
			continue
		}
		if strings.EqualFold(a.name, "srcset") {
			eachSrcset(a.val, func(u string) {
				if v := s.d.judge(u, k); v.score > best.score {
					best, bestKind = v, k
				}
			})
			continue
		}
		if v := s.d.judge(a.val, k); v.score > best.score {
			best, bestKind = v, k
		}
	}
	switch a.end {
	case ranOut:
		if a.p >= len(t) {
			s.wait(i)
			return
		}
		// The tag is longer than maxTag.
		if found || isLoadTag(name) {
			s.urlSkip = max(s.urlSkip, a.limit)
			s.overlong(i, a.limit, isLoadTag(name))
		}
		return
	case invalid:
		return
	}
	s.urlSkip = max(s.urlSkip, a.end)
	if s.all {
		s.cons = append(s.cons, construct{i, a.end})
		return
	}
	if best.score >= minScore {
		s.emit(i, a.end, best, bestKind)
	}
}

// attrs iterates over the attributes of an HTML tag.
type attrs struct {
	t         string
	p, limit  int
	name, val string
	end       int // after '>' once done; ranOut or invalid on failure
}

func (a *attrs) next() bool {
	t := a.t
	for {
		for a.p < a.limit && (isSpace(t[a.p]) || t[a.p] == '/') {
			a.p++
		}
		if a.p >= a.limit {
			a.end = ranOut
			return false
		}
		if t[a.p] == '>' {
			a.end = a.p + 1
			return false
		}
		if t[a.p] == '<' {
			a.end = invalid
			return false
		}
		n := a.p
		for a.p < a.limit && !isSpace(t[a.p]) && t[a.p] != '=' && t[a.p] != '>' && t[a.p] != '/' && t[a.p] != '<' {
			a.p++
		}
		a.name = t[n:a.p]
		a.val = ""
		q := a.p
		for q < a.limit && isSpace(t[q]) {
			q++
		}
		if q >= a.limit {
			a.p = q
			a.end = ranOut
			return false
		}
		if t[q] != '=' {
			if a.name != "" {
				return true
			}
			continue
		}
		q++
		for q < a.limit && isSpace(t[q]) {
			q++
		}
		if q >= a.limit {
			a.p = q
			a.end = ranOut
			return false
		}
		if c := t[q]; c == '"' || c == '\'' {
			e := strings.IndexByte(t[q+1:a.limit], c)
			if e < 0 {
				a.p = a.limit
				a.end = ranOut
				return false
			}
			a.val = t[q+1 : q+1+e]
			a.p = q + 2 + e
		} else {
			v := q
			for q < a.limit && !isSpace(t[q]) && t[q] != '>' {
				q++
			}
			a.val = t[v:q]
			a.p = q
		}
		if a.name != "" {
			return true
		}
	}
}

// loadTags fetch their src without a click.
var loadTags = [...]string{"img", "image", "iframe", "frame", "embed", "object", "source", "video", "audio", "input", "track", "script", "link", "picture", "svg", "use", "body", "table", "td", "th", "tr", "meta"}

func isLoadTag(name string) bool {
	for _, n := range loadTags {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// attrKind says whether an attribute of a tag holds a URL and what kind.
func attrKind(tag, attr string) (kind, bool) {
	switch {
	case strings.EqualFold(attr, "src"), strings.EqualFold(attr, "srcset"),
		strings.EqualFold(attr, "poster"), strings.EqualFold(attr, "background"),
		strings.EqualFold(attr, "lowsrc"), strings.EqualFold(attr, "dynsrc"),
		strings.EqualFold(attr, "style"):
		return kLoad, true
	case strings.EqualFold(attr, "data"):
		return kLoad, strings.EqualFold(tag, "object")
	case strings.EqualFold(attr, "href"), strings.EqualFold(attr, "xlink:href"):
		if strings.EqualFold(tag, "a") || strings.EqualFold(tag, "area") {
			return kLink, true
		}
		return kLoad, true
	case strings.EqualFold(attr, "action"), strings.EqualFold(attr, "formaction"):
		return kLink, true
	case strings.EqualFold(attr, "content"):
		return kLoad, strings.EqualFold(tag, "meta")
	}
	return kLink, false
}

// eachCSSURL calls f with every url(…) argument in a style value.
func eachCSSURL(v string, f func(string)) {
	for {
		i := indexFold(v, "url(")
		if i < 0 {
			return
		}
		v = v[i+4:]
		e := strings.IndexByte(v, ')')
		if e < 0 {
			e = len(v)
		}
		u := strings.TrimSpace(v[:e])
		u = strings.TrimPrefix(strings.TrimSuffix(u, "&quot;"), "&quot;")
		u = strings.Trim(u, "\"'")
		f(u)
		if e == len(v) {
			return
		}
		v = v[e+1:]
	}
}

// eachSrcset calls f with every URL of a srcset value.
func eachSrcset(v string, f func(string)) {
	for v != "" {
		v = strings.TrimLeft(v, " \t\n\r,")
		e := 0
		for e < len(v) && !isSpace(v[e]) {
			e++
		}
		u := v[:e]
		if strings.HasSuffix(u, ",") {
			u = u[:len(u)-1]
		} else {
			c := strings.IndexByte(v[e:], ',')
			if c < 0 {
				e = len(v)
			} else {
				e += c
			}
		}
		if u != "" {
			f(u)
		}
		v = v[e:]
	}
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// bareURL handles the ':' at i of a bare http(s):// URL.
func (s *scanner) bareURL(i int) {
	t := s.text
	if i+1 == len(t) || i+2 == len(t) && t[i+1] == '/' {
		s.wait(max(i-maxSchem, 0))
		return
	}
	if i+2 >= len(t) {
		return
	}
	if t[i+1] != '/' || t[i+2] != '/' {
		return
	}
	b := i
	for b > 0 && i-b < maxSchem && isAlpha(t[b-1]) {
		b--
	}
	if b > 0 && isAlnum(t[b-1]) {
		return
	}
	scheme := t[b:i]
	if !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return
	}
	q := i + 3
	for q < len(t) && t[q] > ' ' && t[q] != '<' && t[q] != '>' && t[q] != '"' && t[q] != '`' {
		if q-b > maxURL {
			s.urlSkip = max(s.urlSkip, q)
			if s.d.links {
				s.overlong(b, q, false)
			}
			return
		}
		q++
	}
	if q == len(t) && !s.eof {
		s.wait(b)
		return
	}
	s.urlSkip = max(s.urlSkip, q)
	e := trimURLEnd(t[b:q])
	if e <= i+3-b {
		return
	}
	s.judge(b, b+e, t[b:b+e], kBare)
}

// trimURLEnd drops trailing punctuation and unbalanced closing parentheses
// from a bare URL, as GitHub's autolinker does, and returns its length.
func trimURLEnd(u string) int {
	e := len(u)
	for e > 0 {
		switch u[e-1] {
		case '.', ',', ':', ';', '!', '?', '*', '_', '~', '\'':
			e--
			continue
		case ')':
			if strings.Count(u[:e], "(") < strings.Count(u[:e], ")") {
				e--
				continue
			}
		}
		break
	}
	return e
}

// judge scores the URL of a construct at [start, end) and reports a hit
// if it scores enough.
func (s *scanner) judge(start, end int, u string, k kind) {
	if !s.d.links && !k.autoLoads() && k != kRefDef {
		return
	}
	v := s.d.judge(u, k)
	if v.score >= minScore {
		s.emit(start, end, v, k)
	}
}

func (s *scanner) emit(start, end int, v verdict, k kind) {
	h := detect.Hit{Start: start, End: end, Score: v.score}
	switch {
	case v.dns:
		h.Rule, h.Label = RuleDNS, "EXFIL_DNS"
	case k == kImage:
		h.Rule, h.Label = RuleMarkdownImage, "EXFIL_IMAGE"
	case k == kLoad:
		h.Rule, h.Label = RuleHTMLImg, "EXFIL_HTML"
	case k == kRefDef || k == kRefImage:
		h.Rule, h.Label = RuleReference, "EXFIL_REFERENCE"
	default:
		h.Rule, h.Label = RuleLink, "EXFIL_LINK"
	}
	s.hits = append(s.hits, h)
}

// overlong reports a construct whose URL exceeds the scanner's bound.
func (s *scanner) overlong(start, end int, image bool) {
	if s.all || end <= start {
		return
	}
	score := overLink
	if image {
		score = overImage
	} else if !s.d.links {
		return
	}
	s.hits = append(s.hits, detect.Hit{Rule: RuleOverlong, Start: start, End: end, Score: score, Label: "OVERLONG_LINK"})
}
