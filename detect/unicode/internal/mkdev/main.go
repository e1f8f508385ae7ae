// Command mkdev builds the unicode detector's evaluation set from benign
// prompts in the shared datasets (permissively licensed sources only): it
// keeps half of the texts clean, some with legitimate invisible characters
// and scripts added (emoji ZWJ sequences, variation selectors, flag tag
// sequences, right-to-left marks in Arabic, joiners in Indic words, a
// byte-order mark, soft hyphens, Latin names in other scripts), and plants
// smuggling in the other half: tag-character payloads, zero-width
// characters inside words or encoding bits, bidi overrides and isolates,
// Cyrillic/Greek look-alike letters in Latin words, and payloads in runs of
// variation selectors.
//
// Carriers are split between the parts "dev" and "train" by a seeded hash
// of their text; everything else is drawn from a PCG generator with the
// same seed, so the output is reproducible:
//
//	go run ./detect/unicode/internal/mkdev -shared ../shared/datasets -seed 1 > detect/unicode/testdata/dev.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// source is a benign set and how many of its rows the dev part takes.
type source struct {
	dir   string
	langs map[string]int // per-language caps; "" caps rows without lang
	label string         // the rows to take
}

var sources = []source{
	{"pi-cyberseceval", map[string]int{"en": 100, "de": 40, "fr": 40, "es": 40, "it": 40, "pt": 40, "hi": 60, "th": 60}, "benign"},
	{"benign-notinject", map[string]int{"": 130}, "benign"},
	{"benign-gsm8k", map[string]int{"": 100}, "benign"},
	{"jb-jackhhao", map[string]int{"": 130}, "benign"},
	{"benign-awesome-chatgpt-prompts", map[string]int{"": 50}, "benign"},
	{"benign-self-instruct", map[string]int{"": 90}, "benign"},
	{"benign-mtbench", map[string]int{"": 70}, "benign"},
	{"pi-deepset", map[string]int{"": 110}, "benign"},
	// MultiJail's prompts are harmful requests, used here only as natural
	// text in scripts the benign sets lack; they count as clean carriers.
	{"harmful-multijail", map[string]int{"ar": 110, "ko": 50, "bn": 50, "zh": 50, "th": 40, "vi": 40}, "harmful"},
}

// payloadSources give the hidden instructions (injection texts).
var payloadSources = []string{"pi-deepset", "pi-cyberseceval"}

type row struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Lang   string `json:"lang,omitempty"`
	Source string `json:"source,omitempty"`
	Family string `json:"family,omitempty"`
	// Variant names how the row was made (the legitimate decoration of a
	// clean row, the technique of a smuggled one).
	Variant string `json:"variant,omitempty"`
	// OrigLabel is the source row's own label.
	OrigLabel string `json:"orig_label,omitempty"`
}

type carrier struct {
	text, lang, source, label string
}

func main() {
	shared := flag.String("shared", "../shared/datasets", "shared datasets directory")
	seed := flag.Uint64("seed", 1, "seed for the split and the construction")
	part := flag.String("part", "dev", "which part to write: dev or train")
	flag.Parse()
	if *part != "dev" && *part != "train" {
		log.Fatalf("-part must be dev or train, not %q", *part)
	}
	rows, err := build(*shared, *seed, *part)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

func readJSONL(path string, f func(map[string]any)) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		f(m)
	}
	return sc.Err()
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// inPart assigns a text to dev or train by a seeded hash.
func inPart(text string, seed uint64, part string) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", seed, text)
	dev := h.Sum64()%2 == 0
	return dev == (part == "dev")
}

func build(shared string, seed uint64, part string) ([]row, error) {
	rng := rand.New(rand.NewPCG(seed, 0x756e69636f6465))
	seen := map[string]bool{}
	var carriers []carrier
	for _, src := range sources {
		var cand []carrier
		err := readJSONL(filepath.Join(shared, src.dir, "data.jsonl"), func(m map[string]any) {
			t := str(m, "text")
			if str(m, "label") != src.label || t == "" || len(t) > 3000 || seen[t] || !inPart(t, seed, part) {
				return
			}
			if _, ok := src.langs[str(m, "lang")]; !ok {
				return
			}
			if strings.ContainsFunc(t, func(r rune) bool { return unicode.Is(unicode.Cf, r) || r >= 0xFE00 && r <= 0xFE0F }) {
				return // keep carriers free of invisible characters of their own
			}
			seen[t] = true
			cand = append(cand, carrier{t, str(m, "lang"), src.dir, str(m, "label")})
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src.dir, err)
		}
		rng.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
		taken := map[string]int{}
		for _, c := range cand {
			if taken[c.lang] < src.langs[c.lang] {
				taken[c.lang]++
				carriers = append(carriers, c)
			}
		}
	}
	var payloads []string
	for _, dir := range payloadSources {
		err := readJSONL(filepath.Join(shared, dir, "data.jsonl"), func(m map[string]any) {
			t := str(m, "text")
			if str(m, "label") == "injection" && str(m, "lang") != "" && str(m, "lang") != "en" {
				return
			}
			if str(m, "label") == "injection" && len(t) >= 12 && len(t) <= 160 && isASCII(t) && inPart(t, seed, part) {
				payloads = append(payloads, t)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
	}
	slices.Sort(payloads)
	payloads = slices.Compact(payloads)
	if len(payloads) == 0 || len(carriers) == 0 {
		return nil, fmt.Errorf("no data under %s", shared)
	}
	rng.Shuffle(len(carriers), func(i, j int) { carriers[i], carriers[j] = carriers[j], carriers[i] })
	b := &builder{rng: rng, payloads: payloads}
	var out []row
	for i, c := range carriers {
		r := row{Lang: c.lang, Source: c.source, OrigLabel: c.label}
		if i%2 == 0 {
			r.Label = "benign"
			r.Text, r.Variant = b.clean(c)
		} else {
			r.Label = "smuggling"
			r.Text, r.Family, r.Variant = b.smuggle(c)
		}
		out = append(out, r)
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type builder struct {
	rng      *rand.Rand
	payloads []string
}

func (b *builder) pick(xs []string) string { return xs[b.rng.IntN(len(xs))] }

// word is a byte span of letters in a text.
type word struct{ start, end int }

func words(s string) []word {
	var ws []word
	start := -1
	for i, r := range s {
		l := unicode.IsLetter(r) || unicode.IsMark(r)
		if l && start < 0 {
			start = i
		}
		if !l && start >= 0 {
			ws = append(ws, word{start, i})
			start = -1
		}
	}
	if start >= 0 {
		ws = append(ws, word{start, len(s)})
	}
	return ws
}

// latinWords are words of at least n ASCII letters.
func latinWords(s string, n int) []word {
	var out []word
	for _, w := range words(s) {
		if w.end-w.start >= n && isASCII(s[w.start:w.end]) {
			out = append(out, w)
		}
	}
	return out
}

// boundary returns a random position at a word boundary (before a word or
// at the end).
func (b *builder) boundary(s string) int {
	ws := words(s)
	if len(ws) == 0 || b.rng.IntN(4) == 0 {
		return len(s)
	}
	return ws[b.rng.IntN(len(ws))].start
}

func insert(s string, at int, x string) string { return s[:at] + x + s[at:] }

// interior returns a random rune boundary strictly inside the word.
func (b *builder) interior(s string, w word) (int, bool) {
	var cuts []int
	for i := range s[w.start:w.end] {
		if i > 0 {
			cuts = append(cuts, w.start+i)
		}
	}
	if len(cuts) == 0 {
		return 0, false
	}
	return cuts[b.rng.IntN(len(cuts))], true
}

func tags(s string) string {
	var sb strings.Builder
	for _, c := range s {
		if c >= 0x20 && c < 0x7F {
			sb.WriteRune(0xE0000 + c)
		}
	}
	return sb.String()
}

func scriptOf(s string) string {
	counts := map[string]int{}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Arabic, r):
			counts["arabic"]++
		case unicode.Is(unicode.Hebrew, r):
			counts["hebrew"]++
		case unicode.In(r, unicode.Devanagari, unicode.Bengali):
			counts["indic"]++
		case unicode.Is(unicode.Thai, r):
			counts["thai"]++
		case unicode.Is(unicode.Cyrillic, r):
			counts["cyrillic"]++
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
			counts["cjk"]++
		case unicode.Is(unicode.Latin, r):
			counts["latin"]++
		}
	}
	best, n := "latin", 0
	for k, v := range counts {
		if v > n || v == n && k < best {
			best, n = k, v
		}
	}
	return best
}

var (
	emojiZWJ   = []string{"👨\u200d👩\u200d👧", "❤\ufe0f\u200d🔥", "🏳\ufe0f\u200d🌈", "👩🏽\u200d💻", "🧑\u200d🤝\u200d🧑", "👁\ufe0f\u200d🗨\ufe0f"}
	emojiVS    = []string{"☀\ufe0f", "❤\ufe0f", "✔\ufe0f", "☎\ufe0f", "✈\ufe0f", "⚠\ufe0f"}
	flagTags   = []string{"\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "\U0001F3F4\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F"}
	latinNames = []string{"iPhone", "Tokyo", "Python", "GitHub", "Wi-Fi", "COVID-19", "USB-C", "Excel"}
	foreign    = []string{"спасибо", "Καλημέρα", "Москва", "שלום", "مرحبا", "東京", "привет мир"}
)

// clean returns the carrier's text, with a legitimate decoration half of
// the time.
func (b *builder) clean(c carrier) (string, string) {
	s := c.text
	if b.rng.IntN(2) == 0 {
		return s, "plain"
	}
	script := scriptOf(s)
	opts := []string{"emoji-zwj", "emoji-vs", "flag-tag", "bom", "mixed-legit"}
	var own string // the decoration specific to the text's script
	switch script {
	case "arabic", "hebrew":
		own = "rtl-marks"
	case "indic":
		if strings.ContainsRune(s, 0x094D) || strings.ContainsRune(s, 0x09CD) {
			own = "indic-joiner"
		}
	case "thai", "cjk":
		own = "zwsp-break"
	case "latin":
		if len(latinWords(s, 10)) > 0 {
			own = "soft-hyphen"
		}
	}
	v := b.pick(opts)
	if own != "" && b.rng.IntN(2) == 0 {
		v = own
	}
	switch v {
	case "emoji-zwj":
		s = insert(s, b.boundary(s), b.pick(emojiZWJ)+" ")
	case "emoji-vs":
		s = insert(s, b.boundary(s), b.pick(emojiVS)+" ")
	case "flag-tag":
		s = insert(s, b.boundary(s), b.pick(flagTags)+" ")
	case "bom":
		s = "\ufeff" + s
	case "mixed-legit":
		switch script {
		case "cyrillic":
			s = s + " Москва2024"
		case "latin":
			s = insert(s, b.boundary(s), b.pick(foreign)+" ")
		default:
			s = insert(s, b.boundary(s), b.pick(latinNames)+" ")
		}
	case "rtl-marks":
		mark := "\u200f"
		if script == "arabic" && b.rng.IntN(2) == 0 {
			mark = "\u061c"
		}
		ws := words(s)
		for k := 0; k < 2 && len(ws) > 0; k++ {
			w := ws[b.rng.IntN(len(ws))]
			s = insert(s, w.end, mark)
			ws = words(s)
		}
	case "indic-joiner":
		j := "\u200c"
		if b.rng.IntN(2) == 0 {
			j = "\u200d"
		}
		for _, v := range []string{"\u094d", "\u09cd"} {
			if i := strings.Index(s, v); i >= 0 {
				s = insert(s, i+len(v), j)
				break
			}
		}
	case "zwsp-break":
		var cuts []int
		prev := rune(0)
		for i, r := range s {
			if i > 0 && isSpaceless(prev) && isSpaceless(r) && !unicode.IsMark(r) {
				cuts = append(cuts, i)
			}
			prev = r
		}
		if len(cuts) > 0 {
			at := cuts[b.rng.IntN(len(cuts))]
			s = insert(s, at, "\u200b")
		}
	case "soft-hyphen":
		ws := latinWords(s, 10)
		w := ws[b.rng.IntN(len(ws))]
		at := w.start + (w.end-w.start)/2
		s = insert(s, at, "\u00ad")
	}
	return s, v
}

func isSpaceless(r rune) bool {
	return unicode.In(r, unicode.Thai, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// homoglyphs maps Latin letters to Cyrillic and Greek look-alikes.
var homoglyphs = map[byte][]string{
	'a': {"а", "α"}, 'c': {"с"}, 'e': {"е"}, 'o': {"о", "ο"}, 'p': {"р", "ρ"}, 'x': {"х"}, 'y': {"у"},
	'i': {"і", "ι"}, 's': {"ѕ"}, 'j': {"ј"}, 'h': {"һ"}, 'v': {"ν"},
	'A': {"А", "Α"}, 'B': {"В", "Β"}, 'C': {"С"}, 'E': {"Е", "Ε"}, 'H': {"Н", "Η"}, 'K': {"К", "Κ"},
	'M': {"М", "Μ"}, 'O': {"О", "Ο"}, 'P': {"Р", "Ρ"}, 'T': {"Т", "Τ"}, 'X': {"Х", "Χ"}, 'I': {"І", "Ι"},
}

// smuggle plants one technique in the carrier.
func (b *builder) smuggle(c carrier) (string, string, string) {
	s := c.text
	families := []string{"tag", "tag", "zero-width", "zero-width", "bidi", "bidi", "variation-selector"}
	if len(latinWords(s, 4)) > 0 {
		families = append(families, "homoglyph", "homoglyph")
	}
	fam := b.pick(families)
	payload := b.pick(b.payloads)
	switch fam {
	case "tag":
		v := b.pick([]string{"append", "insert", "short"})
		hidden := payload
		if v == "short" {
			hidden = b.pick([]string{"sudo", "admin", "yes", "ok", "approve", "rm -rf"})
		}
		t := tags(hidden)
		if b.rng.IntN(2) == 0 {
			t += "\U000E007F"
		}
		at := len(s)
		if v != "append" {
			at = b.boundary(s)
		}
		return insert(s, at, t), fam, v
	case "zero-width":
		v := b.pick([]string{"split-word", "split-words", "binary"})
		zw := []string{"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
		switch v {
		case "binary":
			var sb strings.Builder
			for _, ch := range []byte(payload[:min(len(payload), 12)]) {
				for bit := 7; bit >= 0; bit-- {
					if ch>>bit&1 == 1 {
						sb.WriteString("\u200c")
					} else {
						sb.WriteString("\u200b")
					}
				}
				sb.WriteString("\u200d")
			}
			return insert(s, b.boundary(s), sb.String()), fam, v
		default:
			n := 1
			if v == "split-words" {
				n = 2 + b.rng.IntN(3)
			}
			ws := words(s)
			var long []word
			for _, w := range ws {
				if utf8.RuneCountInString(s[w.start:w.end]) >= 4 {
					long = append(long, w)
				}
			}
			if len(long) == 0 {
				return insert(s, b.boundary(s), b.pick(zw)), fam, "lone"
			}
			// Insert from the end so earlier spans stay valid.
			picked := map[int]bool{}
			for k := 0; k < n; k++ {
				picked[b.rng.IntN(len(long))] = true
			}
			for k := len(long) - 1; k >= 0; k-- {
				if !picked[k] {
					continue
				}
				if at, ok := b.interior(s, long[k]); ok {
					s = insert(s, at, b.pick(zw))
				}
			}
			return s, fam, v
		}
	case "bidi":
		v := b.pick([]string{"rlo-reversed", "isolate", "filename"})
		switch v {
		case "rlo-reversed":
			r := []rune(payload[:min(len(payload), 40)])
			slices.Reverse(r)
			return insert(s, b.boundary(s), "\u202e"+string(r)+"\u202c "), fam, v
		case "isolate":
			ws := words(s)
			if len(ws) < 2 {
				return insert(s, len(s), " \u2067"+payload+"\u2069"), fam, v
			}
			i := b.rng.IntN(len(ws) - 1)
			j := min(len(ws)-1, i+1+b.rng.IntN(3))
			open := b.pick([]string{"\u2067", "\u2066", "\u2068"})
			return s[:ws[i].start] + open + s[ws[i].start:ws[j].end] + "\u2069" + s[ws[j].end:], fam, v
		default:
			name := b.pick([]string{"invoice", "report", "photo", "contract"})
			ext := b.pick([]string{"fdp.exe", "gpj.scr", "xcod.bat"})
			return insert(s, b.boundary(s), name+"\u202e"+ext+" "), fam, v
		}
	case "variation-selector":
		var sb strings.Builder
		sb.WriteString(b.pick([]string{"😀", "👍", "🙂", "✅"}))
		for _, ch := range []byte(payload) {
			if ch < 16 {
				sb.WriteRune(0xFE00 + rune(ch))
			} else {
				sb.WriteRune(0xE0100 + rune(ch-16))
			}
		}
		return insert(s, b.boundary(s), sb.String()+" "), fam, "emoji-payload"
	case "homoglyph":
		ws := latinWords(s, 4)
		n := 1 + b.rng.IntN(2)
		v := "letters"
		for k := 0; k < n; k++ {
			w := ws[b.rng.IntN(len(ws))]
			wt := s[w.start:w.end]
			var idx []int
			for i := 0; i < len(wt); i++ {
				if _, ok := homoglyphs[wt[i]]; ok {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				continue
			}
			m := 1 + b.rng.IntN(min(3, len(idx)))
			if len(idx) == len(wt) && b.rng.IntN(2) == 0 {
				m, v = len(idx), "whole-word"
			}
			b.rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
			chosen := idx[:m]
			slices.Sort(chosen)
			var sb strings.Builder
			last := 0
			for _, i := range chosen {
				sb.WriteString(wt[last:i])
				sb.WriteString(b.pick(homoglyphs[wt[i]]))
				last = i + 1
			}
			sb.WriteString(wt[last:])
			s = s[:w.start] + sb.String() + s[w.end:]
			ws = latinWords(s, 4)
			if len(ws) == 0 {
				break
			}
		}
		return s, fam, v
	}
	return s, fam, "none"
}
