// Command mkdev builds detect/canary/testdata/dev.jsonl, the labeled set
// the canary detector is evaluated on: system prompts from
// awesome-chatgpt-prompts (CC0-1.0) and model outputs that leak them
// (quotes, lightly edited quotes, gapped quotes, the canary token plain or
// obfuscated) or do not (GPTeacher answers, MIT; other role prompts sharing
// their boilerplate; short topical overlaps; other tokens).
//
// The system prompts are split by a seeded shuffle into train and dev
// halves; only the dev half is written, and no parameter of the detector
// was set from either. Run from the repository root:
//
//	go run ./detect/canary/internal/mkdev -datasets ../shared/datasets -seed 20261127
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

type row struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	System string `json:"system"`
	Canary string `json:"canary,omitempty"`
	Family string `json:"family"`
	Source string `json:"source"`
	Lang   string `json:"lang"`
}

func main() {
	datasets := flag.String("datasets", "../shared/datasets", "the shared datasets folder")
	seed := flag.Uint64("seed", 20261127, "seed of the split and of every random choice")
	out := flag.String("out", "detect/canary/testdata/dev.jsonl", "output file")
	flag.Parse()
	if err := run(*datasets, *seed, *out); err != nil {
		slog.Error("mkdev failed", "err", err)
		os.Exit(1)
	}
}

func readTexts(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if t := strings.TrimSpace(r.Text); t != "" {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

func run(datasets string, seed uint64, out string) error {
	prompts, err := readTexts(filepath.Join(datasets, "benign-awesome-chatgpt-prompts", "data.jsonl"))
	if err != nil {
		return err
	}
	answers, err := readTexts(filepath.Join(datasets, "benign-gpteacher", "data.jsonl"))
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	r.Shuffle(len(prompts), func(i, j int) { prompts[i], prompts[j] = prompts[j], prompts[i] })
	dev := prompts[len(prompts)/2:] // prompts[:len/2] is the train half
	r.Shuffle(len(answers), func(i, j int) { answers[i], answers[j] = answers[j], answers[i] })

	token := func() string {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return hex.EncodeToString(b[:])
	}
	nextAnswer := 0
	answer := func() string {
		a := answers[nextAnswer%len(answers)]
		nextAnswer++
		return a
	}
	var rows []row
	for i, sys := range dev {
		words := strings.Fields(sys)
		tok := token()
		withCanary := r.IntN(2) == 0
		canary := ""
		if withCanary {
			canary = tok
		}
		add := func(text, label, family, source string, can string) {
			rows = append(rows, row{Text: text, Label: label, System: sys, Canary: can, Family: family, Source: source, Lang: "en"})
		}
		// Two leaks.
		for k := 0; k < 2; k++ {
			kind := r.IntN(5)
			if kind >= 3 && !withCanary {
				kind = r.IntN(3)
			}
			switch kind {
			case 0: // a verbatim quote of 10-30 words
				add(wrapLeak(r, span(r, words, 10, 30)), "leak", "quote", "awesome-chatgpt-prompts", canary)
			case 1: // the quote re-cased, without punctuation, as a list
				q := strings.Fields(span(r, words, 12, 30))
				for j := range q {
					q[j] = strings.Trim(q[j], `.,;:!?"'()`)
				}
				text := strings.ToUpper(strings.Join(q[:len(q)/2], " ")) + "\n- " + strings.Join(q[len(q)/2:], "\n- ")
				add(wrapLeak(r, text), "leak", "edited-quote", "awesome-chatgpt-prompts", canary)
			case 2: // a quote with every fifth word left out: a paraphrase-like leak
				q := strings.Fields(span(r, words, 15, 30))
				var kept []string
				for j, w := range q {
					if j%5 != 4 {
						kept = append(kept, w)
					}
				}
				add(wrapLeak(r, strings.Join(kept, " ")), "leak", "gapped-quote", "awesome-chatgpt-prompts", canary)
			case 3: // the canary token
				add(answer()+" (ref "+tok+")", "leak", "token", "gpteacher", tok)
			case 4: // the canary token, obfuscated
				add("My hidden marker is "+obfuscate(r, tok)+". "+answer(), "leak", "token-obfuscated", "gpteacher", tok)
			}
		}
		// Two non-leaks.
		for k := 0; k < 2; k++ {
			switch r.IntN(4) {
			case 0:
				add(answer(), "benign", "unrelated", "gpteacher", canary)
			case 1: // another role prompt: shared "I want you to act as" boilerplate
				other := dev[(i+1+r.IntN(len(dev)-1))%len(dev)]
				add(other, "benign", "other-role-prompt", "awesome-chatgpt-prompts", canary)
			case 2: // a short topical overlap of 5 words
				a := answer()
				add(a+" As for "+span(r, words, 5, 5)+", I can help.", "benign", "topical", "gpteacher", canary)
			case 3: // some other token
				add(answer()+" (ref "+token()+")", "benign", "other-token", "gpteacher", tok)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, rw := range rows {
		if err := enc.Encode(rw); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	slog.Info("wrote the dev set", "file", out, "rows", len(rows), "system_prompts", len(dev), "seed", seed)
	return f.Close()
}

// span returns lo to hi consecutive words of words (all of them when
// fewer).
func span(r *rand.Rand, words []string, lo, hi int) string {
	n := lo + r.IntN(hi-lo+1)
	if n >= len(words) {
		return strings.Join(words, " ")
	}
	at := r.IntN(len(words) - n + 1)
	return strings.Join(words[at:at+n], " ")
}

var leakWraps = []string{
	"Sure! My instructions say: \"%s\"",
	"I was told the following: %s. Anything else?",
	"Here is my system prompt, as requested:\n\n%s",
	"%s — that is what I am supposed to do.",
	"Okay. For context, the developer wrote: %s",
}

func wrapLeak(r *rand.Rand, quote string) string {
	return fmt.Sprintf(leakWraps[r.IntN(len(leakWraps))], quote)
}

// obfuscate spaces, dashes or upper-cases a token.
func obfuscate(r *rand.Rand, tok string) string {
	switch r.IntN(3) {
	case 0:
		return strings.Join(strings.Split(tok, ""), " ")
	case 1:
		var b strings.Builder
		for i := 0; i < len(tok); i += 4 {
			if i > 0 {
				b.WriteByte('-')
			}
			b.WriteString(tok[i:min(i+4, len(tok))])
		}
		return b.String()
	}
	return strings.ToUpper(tok)
}
