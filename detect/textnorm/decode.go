package textnorm

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Decoded is one embedded encoded run found in a text.
type Decoded struct {
	// Start and End are the run's half-open byte span in the text given to
	// Decode. For a result decoded from another result's text (Depth > 1)
	// they are the span of the outermost run it came from.
	Start, End int
	// Encoding is "base64", "base64url", "hex", "url" (percent-encoding),
	// "rot13" or "tags" (Unicode tag characters).
	Encoding string
	// Text is the decoded text, valid UTF-8.
	Text string
	// Depth is 1 for a run found in the text itself, 2 for one found in a
	// depth-1 result's Text, and so on.
	Depth int
}

const (
	minBase64 = 16 // shortest base64 run considered, in bytes
	minHex    = 16 // shortest hex run considered, in digits
	maxDepth  = 8  // cap on Decode's depth
)

// Byte classes for the scanner.
const (
	bB64   = 1 << iota // A-Z a-z 0-9
	bStd               // + /
	bURL               // - _
	bPad               // =
	bHex               // 0-9 a-f A-F
	bURLCh             // a byte that can be part of a percent-encoded run
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			t[c] |= bB64
		case c == '+' || c == '/':
			t[c] |= bStd
		case c == '-' || c == '_':
			t[c] |= bURL
		case c == '=':
			t[c] |= bPad
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			t[c] |= bHex
		}
		if c > ' ' && c < 0x7F && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' {
			t[c] |= bURLCh
		}
	}
	return t
}()

const bRun = bB64 | bStd | bURL | bPad

// Decode finds the encoded runs embedded in s and decodes them:
//
//   - base64 (standard or URL alphabet, padded or not) of at least 16
//     characters that decodes to printable UTF-8 text;
//   - hex of at least 16 digits, even length, decoding to printable text;
//   - percent-encoded runs with at least two %xx escapes, decoding to
//     UTF-8;
//   - rot13: stretches of ASCII words whose rot13 contains common English
//     words that the stretch itself does not;
//   - runs of Unicode tag characters (see TagText).
//
// Each result's Text is decoded again, up to depth levels in all (at most
// 8), so base64 of hex of rot13 is found. At most maxOut results are
// returned, ordered by Start, then Depth. The work is linear in len(s)
// (times depth); hostile input cannot make it panic.
func Decode(s string, depth, maxOut int) []Decoded {
	return decode(s, depth, maxOut, true, nil)
}

// DecodeEncoded is Decode without rot13 at the outer layer: it finds the
// runs of s that carry an explicit encoding (base64, hex, percent-encoding,
// tag characters) and decodes them, rot13 included, up to depth levels.
// The outer scan skips through text with no long base64 or hex run
// sixteen bytes at a time, so it is much cheaper than Decode on ordinary
// prose and code.
func DecodeEncoded(s string, depth, maxOut int) []Decoded {
	return decode(s, depth, maxOut, false, nil)
}

// Runs appends to dst the base64 and hex runs of s that DecodeEncoded
// looks at — maximal runs of at least 16 bytes of the base64 alphabets
// (standard and URL-safe) and padding — as [start, end) offsets, in order.
// A caller that inspects them before deciding to decode passes them on to
// DecodeRuns, so that s is scanned once.
func Runs(dst [][2]int, s string) [][2]int {
	scanRuns(s, func(i, j int) bool {
		dst = append(dst, [2]int{i, j})
		return true
	})
	return dst
}

// DecodeRuns is DecodeEncoded(s, depth, maxOut) given Runs(nil, s).
func DecodeRuns(s string, runs [][2]int, depth, maxOut int) []Decoded {
	if runs == nil {
		runs = [][2]int{}
	}
	return decode(s, depth, maxOut, false, runs)
}

// decode is Decode (rot13) or DecodeEncoded; runs, when not nil, are the
// outer layer's base64 and hex runs (Runs).
func decode(s string, depth, maxOut int, rot13 bool, runs [][2]int) []Decoded {
	if depth <= 0 || maxOut <= 0 {
		return nil
	}
	depth = min(depth, maxDepth)
	var out []Decoded
	decodeInto(&out, s, 0, len(s), 1, depth, maxOut, true, rot13, runs)
	slices.SortStableFunc(out, func(a, b Decoded) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.Depth - b.Depth
	})
	return out
}

// decodeInto appends s's runs to out. When top is false, results take the
// span [start, end) of the outer run. rot13 false leaves rot13 out of this
// level (the levels below look for it).
func decodeInto(out *[]Decoded, s string, start, end, level, depth, maxOut int, top, rot13 bool, runs [][2]int) {
	first := len(*out)
	add := func(i, j int, enc, text string) bool {
		if len(*out) >= maxOut {
			return false
		}
		d := Decoded{Start: start, End: end, Encoding: enc, Text: text, Depth: level}
		if top {
			d.Start, d.End = i, j
		}
		*out = append(*out, d)
		return true
	}
	switch {
	case rot13:
		if !scanText(s, add) {
			return
		}
	case runs != nil:
		for _, r := range runs {
			if !splitRun(s, r[0], r[1], add) {
				return
			}
		}
	default:
		if !scanRuns(s, func(i, j int) bool { return splitRun(s, i, j, add) }) {
			return
		}
	}
	if strings.IndexByte(s, '%') >= 0 && !scanPercent(s, add) {
		return
	}
	if strings.IndexByte(s, 0xF3) >= 0 && !scanTags(s, add) {
		return
	}
	if level >= depth {
		return
	}
	for k, n := first, len(*out); k < n; k++ {
		d := (*out)[k]
		if len(*out) >= maxOut {
			return
		}
		decodeInto(out, d.Text, d.Start, d.End, level+1, depth, maxOut, false, true, nil)
	}
}

// scanRuns calls run with the base64 and hex runs of s (maximal runs of
// base64, URL-safe base64 and padding bytes of at least minBase64 bytes),
// the runs scanText decodes, until run returns false. A run that
// long holds a whole aligned block of eight bytes, so only the runs
// through a block made only of run bytes are looked at; words of prose
// and code seldom fill one.
func scanRuns(s string, run func(i, j int) bool) bool {
	for i := 0; i+8 <= len(s); i += 8 {
		// A block with a byte below '+' (white space, quotes, brackets)
		// or above 0x7F cannot be one: tested eight bytes at a time (a
		// borrow only runs upwards from such a byte).
		v := load8(s, i)
		if (v-'+'*ones8)&^v&highs8|v&highs8 != 0 {
			continue
		}
		// Every byte is now ASCII from '+' on, so no sum below carries
		// into the next byte: a letter, a digit or one of + / = - _.
		x := v | 0x20*ones8
		inRun := (x+(0x80-'a')*ones8)&^(x+(0x80-'z'-1)*ones8) |
			(v+(0x80-'0')*ones8)&^(v+(0x80-'9'-1)*ones8) |
			eq8(v, '+') | eq8(v, '/') | eq8(v, '=') | eq8(v, '-') | eq8(v, '_')
		if inRun&highs8 != highs8 {
			continue
		}
		a, b := i, i+8
		for a > 0 && runTab[s[a-1]] != 0 {
			a--
		}
		for b < len(s) && runTab[s[b]] != 0 {
			b++
		}
		if b-a >= minBase64 && !run(a, b) {
			return false
		}
		// The next block that can start a run begins after b.
		i = (b+1+7)&^7 - 8
	}
	return true
}

// runTab is 1 for the bytes of base64 and hex runs (byteClass&bRun).
var runTab = func() (t [256]uint8) {
	for c := range t {
		if byteClass[c]&bRun != 0 {
			t[c] = 1
		}
	}
	return t
}()

// splitRun cuts the run s[i:j] after each run of padding ('=') and decodes
// the pieces.
func splitRun(s string, i, j int, add func(i, j int, enc, text string) bool) bool {
	for i < j {
		k := i
		var seen uint8
		for k < j {
			c := byteClass[s[k]]
			if k > i && s[k-1] == '=' && c&bPad == 0 {
				break
			}
			seen |= c
			k++
		}
		if k-i >= minBase64 && !decodeRun(s[i:k], i, seen, add) {
			return false
		}
		i = k
	}
	return true
}

func decodeRun(run string, at int, seen uint8, add func(i, j int, enc, text string) bool) bool {
	// Leading padding is not part of a value.
	lead := 0
	for lead < len(run) && run[lead] == '=' {
		lead++
	}
	run = run[lead:]
	at += lead
	body := strings.TrimRight(run, "=")
	if len(body) < minBase64 && len(body) < minHex {
		return true
	}
	if seen&(bStd|bURL|bPad) == 0 && len(body) >= minHex && len(body)%2 == 0 && allHex(body) {
		buf := make([]byte, len(body)/2)
		if _, err := hex.Decode(buf, []byte(body)); err == nil && printable(buf) {
			return add(at, at+len(run), "hex", string(buf))
		}
		return true
	}
	if len(body) < minBase64 || len(body)%4 == 1 {
		return true
	}
	var enc *base64.Encoding
	name := "base64"
	switch {
	case seen&bStd != 0 && seen&bURL != 0:
		return true
	case seen&bURL != 0:
		enc, name = base64.RawURLEncoding, "base64url"
	default:
		enc = base64.RawStdEncoding
	}
	buf := make([]byte, enc.DecodedLen(len(body)))
	n, err := enc.Decode(buf, []byte(body))
	if err != nil || !printable(buf[:n]) {
		return true
	}
	return add(at, at+len(run), name, string(buf[:n]))
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if byteClass[s[i]]&bHex == 0 {
			return false
		}
	}
	return true
}

// printable reports whether b is UTF-8 text: no control characters but
// tab, newline and carriage return, no U+FFFD, and at least half of its
// characters letters, digits or spaces.
func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	total, good := 0, 0
	for _, r := range string(b) {
		total++
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == ' ':
			good++
		case r < 0x20 || r == 0x7F || r == utf8.RuneError || r >= 0x80 && r < 0xA0:
			return false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			good++
		case !unicode.IsGraphic(r) && KindOf(r) == 0:
			return false
		}
	}
	return good*2 >= total
}

// scanPercent finds percent-encoded runs.
func scanPercent(s string, add func(i, j int, enc, text string) bool) bool {
	for i := 0; i < len(s); {
		p := strings.IndexByte(s[i:], '%')
		if p < 0 {
			return true
		}
		p += i
		// The run around p: bytes that can be part of a URL.
		a := p
		for a > i && byteClass[s[a-1]]&bURLCh != 0 {
			a--
		}
		b := p
		for b < len(s) && byteClass[s[b]]&bURLCh != 0 {
			b++
		}
		run := s[a:b]
		esc := 0
		for k := 0; k+2 < len(run); k++ {
			if run[k] == '%' && byteClass[run[k+1]]&bHex != 0 && byteClass[run[k+2]]&bHex != 0 {
				esc++
				k += 2
			}
		}
		if esc >= 2 {
			dec := make([]byte, 0, len(run))
			for k := 0; k < len(run); k++ {
				if run[k] == '%' && k+2 < len(run) && byteClass[run[k+1]]&bHex != 0 && byteClass[run[k+2]]&bHex != 0 {
					dec = append(dec, unhex(run[k+1])<<4|unhex(run[k+2]))
					k += 2
					continue
				}
				dec = append(dec, run[k])
			}
			if utf8.Valid(dec) && printable(dec) && !add(a, b, "url", string(dec)) {
				return false
			}
		}
		i = max(b, p+1)
	}
	return true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// scanTags finds runs of tag characters.
func scanTags(s string, add func(i, j int, enc, text string) bool) bool {
	for i := 0; i < len(s); {
		p := strings.IndexByte(s[i:], 0xF3)
		if p < 0 {
			return true
		}
		p += i
		j := p
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if r < 0xE0000 || r > 0xE007F {
				break
			}
			j += n
		}
		if j == p {
			i = p + 1
			continue
		}
		if t := TagText(s[p:j]); t != "" && !add(p, j, "tags", t) {
			return false
		}
		i = j
	}
	return true
}
