// Command train builds the toxicity detector's data and model from the
// shared datasets: the profanity lexicon (lexicon/profanity.tsv), the
// model (model.bin) and the committed dev splits (testdata/dev.jsonl,
// testdata/dev-stormfront.jsonl). Run it from the repository root:
//
//	go run ./detect/toxicity/train -shared ../shared/datasets -seed 1
//
// The split is fixed by the seed: see docs/detectors/toxicity.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/textnorm"
	"github.com/rampartsec/rampart/detect/toxicity"
)

var (
	features = toxicity.DefaultFeatures
	dryRun   bool
	lexStats bool
)

func main() {
	shared := flag.String("shared", "../shared/datasets", "folder of the shared datasets")
	out := flag.String("out", "detect/toxicity", "the toxicity package folder to write into")
	seed := flag.Uint64("seed", 1, "seed of the split and of training")
	flag.IntVar(&features.Bits, "bits", features.Bits, "classifier: log2 of the hash buckets")
	flag.IntVar(&features.CharMin, "char-min", features.CharMin, "classifier: shortest byte n-gram")
	flag.IntVar(&features.CharMax, "char-max", features.CharMax, "classifier: longest byte n-gram (0: none)")
	flag.IntVar(&features.WordMax, "word-max", features.WordMax, "classifier: word n-gram order (0, 1 or 2)")
	flag.BoolVar(&lexStats, "lexstats", false, "print how often each lexicon match occurs in toxic and non-toxic rows of the training and calibration splits, write nothing")
	flag.BoolVar(&dryRun, "dry", false, "train and report calibration figures, write nothing")
	eval := flag.String("eval", "", "instead of training, evaluate the embedded model: full or lexicon (on the committed dev files), benign (false positives on the shared benign prompt sets)")
	flag.Parse()
	var err error
	if *eval != "" {
		err = evalMain(*out, *shared, *eval)
	} else {
		err = run(*shared, *out, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

// row is a line of a shared dataset.
type row struct {
	Text      string  `json:"text"`
	Label     string  `json:"label"`
	Category  string  `json:"category"`
	Family    string  `json:"family"`
	Lang      string  `json:"lang"`
	Source    string  `json:"source"`
	OrigSplit string  `json:"orig_split"`
	Term      string  `json:"term"`
	Severity  string  `json:"severity_rating"`
	Cat1      string  `json:"category_1"`
	Weight    float64 `json:"-"`
}

// devRow is a line of the committed dev files (the evaluation contract).
type devRow struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Family string `json:"family,omitempty"`
	Lang   string `json:"lang,omitempty"`
	Source string `json:"source"`
}

func readJSONL(path string) ([]row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var out []row
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// unit maps (seed, salt, key) to [0, 1).
func unit(seed uint64, salt, key string) float64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return float64(x>>11) / (1 << 53)
}

func group(text string) string { return string(textnorm.Fold(nil, text)) }

// Split fractions for sources without their own split.
const (
	devFrac   = 0.20
	calibFrac = 0.10
	// germevalCalib is the share of GermEval's own training part used for
	// calibration; its own test part is the dev split.
	germevalCalib = 0.15
	// davidsonDev keeps this share of Davidson's dev part in the committed
	// file (the rest is used neither for training nor for evaluation).
	davidsonDev = 0.40
	// benignDev keeps this share of the benign sets' dev part in the
	// committed file.
	benignDev = 0.5
	// davidsonWeight down-weights Davidson's 25k tweets, which would
	// otherwise outweigh every other source together.
	davidsonWeight = 0.3
)

// benignTrain are shared sets of harmless prompts with permissive licences
// (MIT, Apache-2.0, CC0) whose benign rows are split like the toxicity sets
// and used as non-toxic examples. benign-mtbench, benign-wildguard, xstest
// and benign-xquad-questions are kept out of training altogether (-eval
// benign measures on them).
var benignTrain = []string{"benign-gpteacher", "benign-gsm8k", "benign-self-instruct", "benign-awesome-chatgpt-prompts", "pi-cyberseceval", "pi-deepset"}

func run(shared, out string, seed uint64) error {
	profPath := filepath.Join(out, "lexicon", "profanity.tsv")
	if dryRun {
		profPath = filepath.Join(os.TempDir(), "toxicity-profanity.tsv")
	}
	if err := writeProfanity(shared, profPath); err != nil {
		return err
	}
	// The lexicon as it will be embedded: the curated phrases and the
	// profanity file just written.
	terms, err := toxicity.CuratedTerms()
	if err != nil {
		return err
	}
	prof, err := os.ReadFile(profPath)
	if err != nil {
		return fmt.Errorf("read back %s: %w", profPath, err)
	}
	pt, err := toxicity.ParseTerms("profanity.tsv", string(prof))
	if err != nil {
		return err
	}
	for i := range pt {
		pt[i].Source = "profanity"
	}
	terms = append(terms, pt...)
	var fit, calib []toxicity.Example
	var dev, storm []devRow
	var calibSrc []string // the source of each calibration example
	add := func(dst *[]toxicity.Example, r row) {
		*dst = append(*dst, toxicity.Example{Text: r.Text, Toxic: r.Label == "toxic", Weight: r.Weight})
		if dst == &calib {
			calibSrc = append(calibSrc, r.Source)
		}
	}
	toDev := func(r row, family string) devRow {
		return devRow{Text: r.Text, Label: r.Label, Family: family, Lang: r.Lang, Source: r.Source}
	}
	counts := map[string][3]int{}
	count := func(src string, k int) { c := counts[src]; c[k]++; counts[src] = c }

	for _, set := range []string{"tox-surge", "tox-toxigen-seeds", "tox-davidson", "tox-germeval2018"} {
		rows, err := readJSONL(filepath.Join(shared, set, "data.jsonl"))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Label != "toxic" && r.Label != "non-toxic" {
				return fmt.Errorf("%s: unexpected label %q", set, r.Label)
			}
			r.Weight = 1
			if set == "tox-davidson" {
				r.Weight = davidsonWeight
			}
			family := r.Category
			if family == "-" {
				family = ""
			}
			g := group(r.Text)
			u := unit(seed, "split", g)
			switch {
			case set == "tox-germeval2018":
				switch {
				case r.OrigSplit == "test":
					dev = append(dev, toDev(r, family))
					count(set, 2)
				case unit(seed, "calib", g) < germevalCalib:
					add(&calib, r)
					count(set, 1)
				default:
					add(&fit, r)
					count(set, 0)
				}
			case u < devFrac:
				if set == "tox-davidson" && unit(seed, "subsample", g) >= davidsonDev {
					continue
				}
				dev = append(dev, toDev(r, family))
				count(set, 2)
			case u < devFrac+calibFrac:
				add(&calib, r)
				count(set, 1)
			default:
				add(&fit, r)
				count(set, 0)
			}
		}
	}
	// Harmless prompts as negatives: the toxicity sets' negatives are
	// tweets, and without text like what an assistant is asked and
	// answers the model takes any formal or foreign text for toxic.
	for _, set := range benignTrain {
		rows, err := readJSONL(filepath.Join(shared, set, "data.jsonl"))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Label != "benign" {
				continue
			}
			r.Label, r.Weight = "non-toxic", 1
			g := group(r.Text)
			switch u := unit(seed, "split", g); {
			case u < devFrac:
				if unit(seed, "subsample", g) >= benignDev {
					continue
				}
				dev = append(dev, toDev(r, ""))
				count(set, 2)
			case u < devFrac+calibFrac:
				add(&calib, r)
				count(set, 1)
			default:
				add(&fit, r)
				count(set, 0)
			}
		}
	}
	// Evaluation-only sources.
	hc, err := readJSONL(filepath.Join(shared, "tox-hatecheck", "data.jsonl"))
	if err != nil {
		return err
	}
	for _, r := range hc {
		dev = append(dev, toDev(r, r.Family))
		count("tox-hatecheck", 2)
	}
	sf, err := readJSONL(filepath.Join(shared, "tox-stormfront", "data.jsonl"))
	if err != nil {
		return err
	}
	for _, r := range sf {
		if r.OrigSplit == "test" {
			storm = append(storm, toDev(r, r.Category))
			count("tox-stormfront", 2)
		}
	}
	// The curated phrases are positives too: most are too rare in the
	// datasets for the combiner to learn their weight otherwise.
	curated, err := toxicity.CuratedTerms()
	if err != nil {
		return err
	}
	for _, t := range curated {
		r := row{Text: t.Phrase, Label: "toxic", Weight: 1}
		if unit(seed, "curated", t.Lang+"\t"+t.Phrase) < 0.2 {
			add(&calib, r)
			count("curated", 1)
		} else {
			add(&fit, r)
			count("curated", 0)
		}
	}
	// No dev text, folded, may be trained or calibrated on.
	seen := map[string]bool{}
	for _, r := range dev {
		seen[group(r.Text)] = true
	}
	for _, r := range storm {
		seen[group(r.Text)] = true
	}
	nf, nc := len(fit), len(calib)
	fit = slices.DeleteFunc(fit, func(e toxicity.Example) bool { return seen[group(e.Text)] })
	k := 0
	for i, e := range calib {
		if !seen[group(e.Text)] {
			calib[k], calibSrc[k] = e, calibSrc[i]
			k++
		}
	}
	calib, calibSrc = calib[:k], calibSrc[:k]
	slog.Info("split", "fit", len(fit), "calib", len(calib), "dev", len(dev), "dev-stormfront", len(storm),
		"dropped_as_dev_duplicates", nf-len(fit)+nc-len(calib))
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		slog.Info("source", "name", k, "fit", counts[k][0], "calib", counts[k][1], "dev", counts[k][2])
	}

	if lexStats {
		return printLexStats(append(slices.Clone(fit), calib...), terms)
	}
	// Prune profanity-list terms that the training split shows to be
	// ordinary words (often of another language: Dutch "nicht", French
	// "bitte"): found in at least minPrune non-toxic rows and in no more
	// toxic rows than non-toxic ones.
	stats, err := lexCounts(append(slices.Clone(fit), calib...), terms)
	if err != nil {
		return err
	}
	var pruned []string
	keepTerm := func(t toxicity.Term) bool {
		c := stats[t.Category.String()+" "+string(textnorm.Fold(nil, t.Phrase))]
		if c.non >= minPrune && c.non >= c.tox {
			pruned = append(pruned, t.Lang+":"+t.Phrase)
			return false
		}
		return true
	}
	terms = slices.DeleteFunc(terms, func(t toxicity.Term) bool { return t.Source == "profanity" && !keepTerm(t) })
	slog.Info("pruned profanity terms", "count", len(pruned), "terms", strings.Join(pruned, " "))
	if !dryRun {
		if err := rewriteProfanity(profPath, terms); err != nil {
			return err
		}
	}
	m, err := toxicity.Train(fit, calib, terms, toxicity.TrainConfig{Features: features, Seed: seed})
	if err != nil {
		return err
	}
	// Figures on the calibration split (what model choices may be judged
	// on; the dev split is not looked at here).
	d, err := toxicity.NewWith(m, terms, nil)
	if err != nil {
		return err
	}
	var cs []scored
	for i, e := range calib {
		ev := d.Evidence(e.Text)
		lab := "non-toxic"
		if e.Toxic {
			lab = "toxic"
		}
		cs = append(cs, scored{row{Label: lab, Source: calibSrc[i]}, m.Score(ev)})
	}
	slog.Info("calibration split", "features", fmt.Sprintf("%+v", features), "roc_auc", auc(cs))
	if dryRun {
		table(os.Stdout, "calibration source", cs, func(s scored) string { return s.r.Source }, m.Threshold)
	}
	if dryRun {
		return nil
	}
	slog.Info("model", "full", m.Full, "lex", m.Lex, "threshold", m.Threshold, "lex_threshold", m.LexThreshold)
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "model.bin"), b, 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := writeDev(filepath.Join(out, "testdata", "dev.jsonl"), dev); err != nil {
		return err
	}
	return writeDev(filepath.Join(out, "testdata", "dev-stormfront.jsonl"), storm)
}

func writeDev(path string, rows []devRow) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// skipLangs are written without spaces between words: whole-word matching
// does not apply. tlh is Klingon.
var skipLangs = map[string]bool{"zh": true, "ja": true, "th": true, "tlh": true}

// writeProfanity converts lexicon-profanity/terms.jsonl into the embedded
// lexicon. Surge AI terms get a category from their own: slurs about race,
// religion, sexual orientation or gender of severity 2 or more are hate,
// sexual terms of severity 2 or more are sexual, general insults are
// insults, everything else is profanity; Surge terms below severity 1.5
// (mild words with innocent senses: "nuggets", "crows") are left out.
// LDNOOBW terms are profanity.
func writeProfanity(shared, path string) error {
	rows, err := readJSONL(filepath.Join(shared, "lexicon-profanity", "terms.jsonl"))
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(profanityHeader)
	seen := map[string]bool{}
	for _, r := range rows {
		lang := r.Lang
		if i := strings.IndexByte(lang, '-'); i > 0 {
			lang = lang[:i]
		}
		term := strings.TrimSpace(r.Term)
		if skipLangs[lang] || utf8.RuneCountInString(term) < 3 || strings.TrimSpace(term) == "" || strings.ContainsAny(term, "\t\r\n") {
			continue
		}
		cat := toxicity.Profanity
		if r.Source != "ldnoobw" {
			sev, err := strconv.ParseFloat(r.Severity, 64)
			if err != nil {
				return fmt.Errorf("term %q: severity %q: %w", term, r.Severity, err)
			}
			if sev < 1.5 {
				continue
			}
			switch r.Cat1 {
			case "racial / ethnic slurs", "religious offense", "sexual orientation / gender":
				if sev >= 2 {
					cat = toxicity.Hate
				}
			case "sexual anatomy / sexual acts":
				if sev >= 2 {
					cat = toxicity.Sexual
				}
			case "other / general insult":
				cat = toxicity.Insult
			}
		}
		line := lang + "\t" + cat.String() + "\t" + term + "\n"
		if seen[line] {
			continue
		}
		seen[line] = true
		b.WriteString(line)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if len(seen) == 0 {
		return errors.New("no lexicon terms")
	}
	return nil
}

// printLexStats prints the lexicon matches (folded) found most often in
// non-toxic rows of the given (training) examples.
func printLexStats(ex []toxicity.Example, terms []toxicity.Term) error {
	m, err := lexCounts(ex, terms)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a].non != m[b].non {
			return m[b].non - m[a].non
		}
		return strings.Compare(a, b)
	})
	for i, k := range keys {
		if i == 60 {
			break
		}
		fmt.Printf("%5d %5d  toxicity.%s\n", m[k].non, m[k].tox, k)
	}
	return nil
}

// minPrune is the number of non-toxic training rows a profanity-list term
// must be found in before it can be pruned.
const minPrune = 5

type counts struct{ tox, non int }

// lexCounts counts the lexicon matches (category and folded text) in toxic
// and non-toxic examples.
func lexCounts(ex []toxicity.Example, terms []toxicity.Term) (map[string]counts, error) {
	d, err := toxicity.NewWith(&toxicity.Model{}, terms, map[string]any{"classifier": false})
	if err != nil {
		return nil, err
	}
	m := map[string]counts{}
	for _, e := range ex {
		hs, err := d.Detect(context.Background(), detect.Input{Text: e.Text})
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			k := strings.TrimPrefix(h.Rule.ID, "toxicity.") + " " + string(textnorm.Fold(nil, e.Text[h.Start:h.End]))
			c := m[k]
			if e.Toxic {
				c.tox++
			} else {
				c.non++
			}
			m[k] = c
		}
	}
	return m, nil
}

// rewriteProfanity writes the profanity terms of terms back to path.
func rewriteProfanity(path string, terms []toxicity.Term) error {
	var b strings.Builder
	b.WriteString(profanityHeader)
	for _, t := range terms {
		if t.Source == "profanity" {
			b.WriteString(t.Lang + "\t" + t.Category.String() + "\t" + t.Phrase + "\n")
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

const profanityHeader = "# Generated by detect/toxicity/train from lexicon-profanity: LDNOOBW (CC-BY-4.0)\n" +
	"# and Surge AI profanity (MIT), pruned on the training split. lang <TAB> category <TAB> term. Do not edit.\n"
