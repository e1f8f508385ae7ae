// Command train builds the prompt-injection model shipped in
// detect/injection: it reads Rampart's shared datasets, deduplicates them by
// normalised text, splits them into train, calibration and dev parts with a
// fixed seed (grouping near-duplicates and translations), trains the
// classify model on the train part, fits the combiner on the calibration
// part, writes model.bin, combiner.json and testdata/dev.jsonl, and prints
// the split sizes and the dev figures.
//
//	go run ./detect/injection/train -shared ../shared/datasets -seed 1
//
// With TRAIN_DEBUG set in the environment it also prints the largest
// split groups, the rules' firing counts on the calibration part and the
// calibration rows it gets wrong.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect/injection/internal/evidence"
	"github.com/rampartsec/rampart/detect/injection/internal/metrics"
	"github.com/rampartsec/rampart/detect/textnorm"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		slog.Error("train", "err", err)
		os.Exit(1)
	}
}

// folders are the prompt-security sets, in the order their rows are read
// (the first occurrence of a duplicated text keeps its metadata).
var folders = []string{
	"pi-deepset", "pi-cyberseceval", "pi-bipia-indirect", "jb-verazuo-inthewild", "jb-jackhhao",
	"jb-jailbreakbench", "jb-gptfuzz", "jb-garak", "harmful-multijail", "harmful-ailuminate", "xstest",
	"benign-notinject", "benign-wildguard", "benign-awesome-chatgpt-prompts", "benign-self-instruct",
	"benign-gpteacher", "benign-gsm8k", "benign-mtbench", "benign-xquad-questions",
}

// evalOnly are sources never trained on: share-alike licences (XQuAD
// questions; BIPIA's code and table contexts, which are Stack Overflow and
// WikiTableQuestions text under CC-BY-SA-4.0) and functional test suites
// (NotInject, XSTest).
var evalOnly = map[string]string{
	"xquad":       "CC-BY-SA-4.0",
	"bipia-code":  "CC-BY-SA-4.0 contexts",
	"bipia-table": "CC-BY-SA-4.0 contexts",
	"notinject":   "functional test suite",
	"xstest-v2":   "functional test suite",
}

// Split fractions (of groups).
const (
	devFrac   = 0.20
	calibFrac = 0.15 // of what is not dev
	// xquadDev caps the XQuAD questions kept in dev (sampled by group with
	// the seed); the rest are unused.
	xquadDev = 1500
	// minPerClass is the fewest rows of each class a script needs for
	// the classifier to train on it.
	minPerClass = 20
	augFrac     = 0.30 // share of train and calibration rows given an obfuscated copy
)

type row struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Source string `json:"source"`
	Family string `json:"family,omitempty"`
	Lang   string `json:"lang,omitempty"`
	Role   string `json:"role,omitempty"`
	ID     string `json:"id,omitempty"`
	Goal   string `json:"goal,omitempty"`
	Attack string `json:"attack,omitempty"`

	key       string
	trainable bool
	synthetic bool // planted by synthesize
	groups    []string
	comp      int
}

// hardNegatives are the dev sources of benign prompts that look like
// attacks (the list of TestDevFigures).
var hardNegatives = []string{"notinject", "xstest-v2", "wildguardtest-benign", "awesome-chatgpt-prompts", "gpteacher-roleplay", "mt-bench", "cyberseceval-frr"}

func positive(label string) bool { return label == "injection" || label == "jailbreak" }

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	shared := fs.String("shared", "../shared/datasets", "directory of the shared datasets")
	seed := fs.Uint64("seed", 1, "seed of the split, the augmentation and the training order")
	out := fs.String("out", "detect/injection", "directory to write model.bin, combiner.json and testdata/dev.jsonl to")
	bits := fs.Int("bits", 16, "log2 of the hash buckets")
	charMin := fs.Int("char-min", 4, "shortest character n-gram")
	charMax := fs.Int("char-max", 4, "longest character n-gram")
	epochs := fs.Int("epochs", 6, "training epochs")
	fitHarmful := fs.Bool("fit-harmful", true, "fit the classifier on harmful requests as negatives (false: they are calibration data only)")
	sourceBalance := fs.Bool("source-balance", false, "within each class, weight sources by the square root of their size rather than their size")
	wordMax := fs.Int("word-max", 2, "word n-gram order: 0 none, 1 words, 2 words and pairs")
	l2 := fs.Float64("l2", 1e-6, "L2 regularisation strength per update")
	lr := fs.Float64("lr", 0.2, "AdaGrad base learning rate")
	sublinearTF := fs.Bool("sublinear-tf", false, "experiment (with -cv only): fit on 1+ln(count) features divided by their L2 norm; the shipped scoring does not implement it")
	cvSeed := fs.Uint64("cv-seed", 0, "seed of the cross-validation folds (0: the split seed)")
	thrMaxFPR := fs.Float64("threshold-max-fpr", 0.01, "the operating point is the best-F1 threshold on the calibration part among those whose false-positive rate there is at most this (1: best F1, no constraint)")
	thrOn := fs.String("threshold-fpr-on", "benign-prompts", "the calibration negatives -threshold-max-fpr is measured on: benign-prompts (rows labelled benign that are not documents, the issue's measure) or negatives (every negative)")
	bipiaSplit := fs.Bool("bipia-split", true, "BIPIA rows follow BIPIA's own split: rows built from its test attacks and test contexts are dev, its train e-mails are train or calibration, and its code and table rows built from train attacks are left out of dev (cross-validation reports them, never fits them); false: the split of the first three rounds")
	synth := fs.Bool("synth", true, "add synthetic documents (synth.go) to the train and calibration parts")
	synthPer := fs.Int("synth-per-attack", 6, "synthetic documents per BIPIA train-split attack text")
	synthOthers := fs.Int("synth-others", 2, "synthetic documents per short injection of deepset, CyberSecEval and garak (train and calibration parts)")
	synthNeg := fs.Float64("synth-neg", 2, "synthetic negative documents per planted one")
	synthWeight := fs.Float64("synth-weight", 1, "weight of the synthetic rows in the classifier's fit, relative to an original row of their class and script")
	synthKinds := fs.String("synth-kinds", "code,table,email", "context kinds of the synthetic documents")
	synthCombiner := fs.Bool("synth-combiner", true, "fit the combiner and choose the threshold on the synthetic calibration rows too (false: on the original calibration rows only)")
	evalFile := fs.String("eval", "", "also report the dev figures on this JSONL file (e.g. an earlier dev.jsonl), all rows and those also in the new dev split")
	cvFolds := fs.Int("cv", 0, "when > 1: only report k-fold cross-validation on train+calibration with these settings (grouped folds drawn with the seed) and exit; writes nothing, never looks at dev")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := load(*shared, *bipiaSplit)
	if err != nil {
		return err
	}
	rows, conflicts := dedupe(rows)
	fmt.Fprintf(stdout, "rows after dedupe: %d\n", len(rows))
	for _, c := range conflicts {
		fmt.Fprintf(stdout, "conflict resolved: %s\n", c)
	}
	ncomp := components(rows)
	if os.Getenv("TRAIN_DEBUG") != "" {
		size := map[int]int{}
		for _, r := range rows {
			size[r.comp]++
		}
		var big []int
		for c, n := range size {
			if n > 50 {
				big = append(big, c)
			}
		}
		for _, c := range big {
			cnt := map[string]int{}
			for _, r := range rows {
				if r.comp == c {
					cnt[r.Source+"/"+r.Label]++
				}
			}
			fmt.Fprintf(stdout, "component %d: %d rows %v\n", c, size[c], cnt)
		}
	}
	train, calib, dev, val, err := split(rows, ncomp, *seed, *bipiaSplit)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "split (seed %d): train %d, calibration %d, dev %d, left out (BIPIA code/table rows with train attacks) %d\n", *seed, len(train), len(calib), len(dev), len(val))
	var synTrain, synCalib []*row
	if *synth {
		synTrain, synCalib, err = synthesize(train, calib, val, *seed, synthConfig{perAttack: *synthPer, negRatio: *synthNeg, others: *synthOthers, kinds: *synthKinds})
		if err != nil {
			return err
		}
		cnt := map[string]int{}
		for _, r := range append(slices.Clone(synTrain), synCalib...) {
			cnt[r.Source+"/"+r.Label]++
		}
		fmt.Fprintf(stdout, "synthetic documents: train %d, calibration %d %v\n", len(synTrain), len(synCalib), cnt)
	}

	// Per-script class balance: within every writing system, positives
	// and negatives carry equal weight, so that the script of a text is no
	// evidence by itself (the translated attacks outnumber the benign
	// texts in several scripts).
	weight, trainedScripts := scriptWeights(append(slices.Clone(train), calib...), stdout)
	if *sourceBalance {
		weight = sourceBalanced(append(slices.Clone(train), calib...), weight)
	}
	rng := rand.New(rand.NewPCG(*seed, 0xa06))
	var exs []classify.Example
	for _, part := range [][]*row{train, calib} {
		for _, r := range part {
			g := fmt.Sprint(r.comp)
			w := weight(r)
			if !*fitHarmful && r.Label == "harmful" {
				w = 0
			}
			if w == 0 {
				w = -1 // not for fitting the classifier; still calibration data
			}
			exs = append(exs, classify.Example{Text: r.Text, Label: positive(r.Label), Group: g, Weight: w})
			if rng.Float64() < augFrac {
				exs = append(exs, classify.Example{Text: obfuscate(r.Text, rng), Label: positive(r.Label), Group: g, Weight: w})
			}
		}
	}
	// Synthetic documents after the original rows (so that the
	// augmentation draws of those stay as they were), not augmented.
	for _, part := range [][]*row{synTrain, synCalib} {
		for _, r := range part {
			w := weight(r) * *synthWeight
			if w <= 0 {
				w = -1
			}
			exs = append(exs, classify.Example{Text: r.Text, Label: positive(r.Label), Group: fmt.Sprint(r.comp), Weight: w})
		}
	}
	train = append(train, synTrain...)
	calib = append(calib, synCalib...)
	// The classifier holds out a calibration part by group; it is the
	// calibration part of this split exactly when the group says so.
	cfg := classify.Config{
		Features: classify.Features{Bits: *bits, CharMin: *charMin, CharMax: *charMax, WordMax: *wordMax, Normalizer: evidence.NormalizerName},
		Epochs:   *epochs, Seed: *seed, NoBias: true, L2: *l2, LearningRate: *lr,
	}
	if *cvFolds > 1 {
		cfg.SublinearTF = *sublinearTF
		if *cvSeed == 0 {
			*cvSeed = *seed
		}
		return crossValidate(stdout, append(slices.Clone(train), calib...), val, exs, cfg, *cvFolds, *cvSeed, trainedScripts, *synthCombiner)
	}
	if *sublinearTF {
		return errors.New("-sublinear-tf is a cross-validation experiment only (use it with -cv)")
	}
	// Train on the train part only; Platt scaling is folded into the
	// combiner, which is fitted on the calibration part.
	var fit, cal []classify.Example
	calSet := map[string]bool{}
	for _, r := range calib {
		calSet[fmt.Sprint(r.comp)] = true
	}
	for _, e := range exs {
		switch {
		case calSet[e.Group]:
			e.Weight = 0
			cal = append(cal, e)
		case e.Weight > 0:
			fit = append(fit, e)
		}
	}
	// Quantisation cost, measured on the calibration part.
	cfg.Quantization = func(fz, qz []float64, y []bool) {
		fa := metrics.Measure(fz, y, 0).AUC
		qa := metrics.Measure(qz, y, 0).AUC
		fmt.Fprintf(stdout, "classifier AUC on calibration: float32 weights %.4f, int8 weights %.4f\n", fa, qa)
	}
	cfg.Calibration = cal
	m, err := classify.Train(fit, cfg)
	if err != nil {
		return err
	}
	sc := new(evidence.Scratch)
	scn := evidence.NewScanner()
	var trained evidence.Scripts
	for _, n := range trainedScripts {
		s, _ := evidence.ParseScript(n)
		trained = trained.With(s)
	}
	var xs []evidence.Vector
	var ys []bool
	synText := map[string]bool{}
	if !*synthCombiner {
		for _, r := range synCalib {
			synText[r.Text] = true
		}
	}
	for _, e := range cal {
		if synText[e.Text] {
			continue
		}
		v, _ := evidence.Analyze(m, scn, e.Text, false, trained, sc)
		xs = append(xs, v)
		ys = append(ys, e.Label)
	}
	// Indirect-mode vectors for the document rows of the calibration part.
	for _, r := range calib {
		if r.Role == "document" && !synText[r.Text] {
			v, _ := evidence.Analyze(m, scn, r.Text, true, trained, sc)
			xs = append(xs, v)
			ys = append(ys, positive(r.Label))
		}
	}
	if os.Getenv("TRAIN_DEBUG") != "" {
		var cnt [evidence.NumFeatures][2]int
		var tot [2]int
		for i, x := range xs {
			k := 0
			if ys[i] {
				k = 1
			}
			tot[k]++
			for f := evidence.FeatCat0; f < evidence.FeatCount; f++ {
				if x[f] > 0 {
					cnt[f][k]++
				}
			}
		}
		for f := evidence.FeatCat0; f < evidence.FeatCount; f++ {
			fmt.Fprintf(stdout, "calibration rule %-15s negatives %4d/%d positives %4d/%d\n", evidence.FeatureNames[f], cnt[f][0], tot[0], cnt[f][1], tot[1])
		}
	}
	// Rule precision, measured on the train part.
	var tp, fp [evidence.NumCategories]int
	var npos, nneg int
	for _, r := range train {
		v, _ := evidence.Analyze(m, scn, r.Text, r.Role == "document", trained, sc)
		y := positive(r.Label)
		if y {
			npos++
		} else {
			nneg++
		}
		for c := range evidence.NumCategories {
			if v[evidence.FeatCat0+int(c)] > 0 {
				if y {
					tp[c]++
				} else {
					fp[c]++
				}
			}
		}
	}
	var prec [evidence.NumCategories]float64
	for c := range evidence.NumCategories {
		prec[c] = evidence.RulePrecision(tp[c], npos, fp[c], nneg)
		fmt.Fprintf(stdout, "rule %-15s train part: %4d/%d positives, %4d/%d negatives, balanced precision %.3f\n",
			evidence.FeatureNames[evidence.FeatCat0+int(c)], tp[c], npos, fp[c], nneg, prec[c])
	}
	// Three ways to combine, compared by two-fold cross-validation on the
	// calibration part: (a) one logistic regression over the logits and
	// the rule indicators; (b) a logistic regression over the logits
	// alone, noisy-OR'd with the rules' measured precision; (c) the larger
	// of (a) and the rules' noisy-OR alone.
	var all, logits [evidence.NumFeatures]bool
	for i := range all {
		all[i] = i != evidence.FeatAbstain
	}
	logits[evidence.FeatWhole], logits[evidence.FeatWindow], logits[evidence.FeatLine] = true, true, true
	fitKind := func(xs []evidence.Vector, ys []bool, kind int) (evidence.Combiner, error) {
		use := all
		if kind == 1 {
			use = logits
		}
		c, err := evidence.FitCombiner(xs, ys, 1.0, use)
		c.NoisyOR = kind == 1
		c.MaxRules = kind == 2
		c.RulePrecision = prec // for texts the classifier abstains on
		return c, err
	}
	bestKind, bestRecall := 0, -1.0
	for kind := range 3 {
		var scores []float64
		var labels []bool
		for fold := range 2 {
			var tx, ex []evidence.Vector
			var ty, ey []bool
			for i := range xs {
				if i%2 == fold {
					ex, ey = append(ex, xs[i]), append(ey, ys[i])
				} else {
					tx, ty = append(tx, xs[i]), append(ty, ys[i])
				}
			}
			c, err := fitKind(tx, ty, kind)
			if err != nil {
				return err
			}
			for i := range ex {
				scores = append(scores, c.Score(ex[i]))
				labels = append(labels, ey[i])
			}
		}
		t := metrics.PickThreshold(scores, labels, 0.01)
		mt := metrics.Measure(scores, labels, t)
		fmt.Fprintf(stdout, "combiner %s, 2-fold on calibration: F1 %.3f at threshold, recall at 1%% FPR %.3f, AUC %.4f\n",
			[]string{"logistic", "noisy-or", "max(logistic, rules)"}[kind], mt.F1, mt.RecallAt1FPR, mt.AUC)
		if mt.RecallAt1FPR > bestRecall {
			bestKind, bestRecall = kind, mt.RecallAt1FPR
		}
	}
	comb, err := fitKind(xs, ys, bestKind)
	if err != nil {
		return err
	}
	comb.Scripts = trainedScripts
	p := &evidence.Pipeline{Model: m, Scanner: scn, Combiner: comb, Trained: trained}
	// Operating point: the highest-F1 threshold on the calibration part
	// whose false-positive rate on its benign prompts (-threshold-fpr-on;
	// the issue measures recall at 1 % false positives on benign prompts)
	// stays at or below -threshold-max-fpr: 1 % by default. A gateway flags or blocks every
	// prompt above it, so the false-positive budget on benign traffic comes
	// first; the unconstrained best-F1 point doubles the false-positive
	// rate for about 0.02 F1 in cross-validation (docs/detectors/injection.md).
	var calScores []float64
	var calLabels []bool
	var calRows []*row
	for _, r := range calib {
		if synText[r.Text] {
			continue
		}
		d := p.Score(r.Text, r.Role == "document", sc)
		calScores = append(calScores, d.Score)
		calLabels = append(calLabels, positive(r.Label))
		calRows = append(calRows, r)
	}
	switch *thrOn {
	case "negatives":
		p.Combiner.Threshold = metrics.PickThreshold(calScores, calLabels, *thrMaxFPR)
	case "benign-prompts":
		var neg []float64
		for i, r := range calRows {
			if r.Label == "benign" && r.Role != "document" {
				neg = append(neg, calScores[i])
			}
		}
		p.Combiner.Threshold = metrics.PickThresholdOn(calScores, calLabels, neg, *thrMaxFPR)
	default:
		return fmt.Errorf("-threshold-fpr-on %q: want benign-prompts or negatives", *thrOn)
	}
	if os.Getenv("TRAIN_DEBUG") != "" {
		for i, r := range calRows {
			if (calScores[i] >= p.Combiner.Threshold) != calLabels[i] {
				t := r.Text
				if len(t) > 150 {
					t = t[:150]
				}
				fmt.Fprintf(stdout, "calib miss %.3f %s/%s %q\n", calScores[i], r.Source, r.Label, t)
			}
		}
	}
	if err := p.Combiner.Check(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "combiner: %s\n", describe(p.Combiner))

	if err := write(*out, m, p.Combiner, dev); err != nil {
		return err
	}
	report(stdout, p, dev)
	if *evalFile != "" {
		old, err := readDev(*evalFile)
		if err != nil {
			return err
		}
		inDev := map[string]bool{}
		for _, r := range dev {
			inDev[r.Text] = true
		}
		fmt.Fprintf(stdout, "\n%s (all rows)", *evalFile)
		report(stdout, p, old)
		shared := slices.DeleteFunc(slices.Clone(old), func(r *row) bool { return !inDev[r.Text] })
		fmt.Fprintf(stdout, "\n%s (rows also in the new dev split)", *evalFile)
		report(stdout, p, shared)
	}
	return nil
}

// readDev reads a dev.jsonl file as written by write.
func readDev(path string) ([]*row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*row
	for i, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r row
		if err := json.Unmarshal(l, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		_, eo := evalOnly[r.Source]
		r.trainable = !eo
		out = append(out, &r)
	}
	return out, nil
}

func describe(c evidence.Combiner) string {
	var b strings.Builder
	for i, w := range c.Weights {
		fmt.Fprintf(&b, "%s=%.3f ", evidence.FeatureNames[i], w)
	}
	fmt.Fprintf(&b, "bias=%.3f threshold=%.4f", c.Bias, c.Threshold)
	return b.String()
}

func load(dir string, bipiaSplit bool) ([]*row, error) {
	var rows []*row
	cseTest, cseFamily, cseLangs := 0, "", map[string]bool{}
	for _, f := range folders {
		path := filepath.Join(dir, f, "data.jsonl")
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		line := 0
		for sc.Scan() {
			line++
			var raw struct {
				row
				SystemPrompt string `json:"system_prompt"`
			}
			if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
				fh.Close()
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			r := raw.row
			if r.Text == "" {
				continue
			}
			_, eo := evalOnly[r.Source]
			r.trainable = !eo
			r.key = splitKey(r.Text)
			r.groups = groupKeys(&r, bipiaSplit)
			if r.Source == "cyberseceval-prompt-injection" && strings.HasPrefix(r.ID, "ml-") {
				// The translations of one test are consecutive rows
				// with one family and distinct languages: a new test
				// starts where the family changes or a language repeats.
				if r.Family != cseFamily || cseLangs[r.Lang] {
					cseTest++
					cseFamily = r.Family
					clear(cseLangs)
				}
				cseLangs[r.Lang] = true
				r.groups = append(r.groups, fmt.Sprintf("cse-test:%d", cseTest))
			}
			rows = append(rows, &r)
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return rows, nil
}

// groupKeys lists keys whose rows must share a side of the split. With
// bipiaSplit, BIPIA rows are not grouped by their opening bytes: BIPIA's
// train and test parts hold templated e-mails (and tables with one header)
// that open alike, and its own split of contexts and attacks decides.
func groupKeys(r *row, bipiaSplit bool) []string {
	keys := []string{"text:" + r.key}
	switch r.Source {
	case "multijail":
		if i := strings.IndexByte(r.ID, '-'); i > 0 {
			keys = append(keys, "multijail:"+r.ID[:i])
		}
	case "xquad":
		if i := strings.LastIndexByte(r.ID, '-'); i > 0 {
			keys = append(keys, "xquad:"+r.ID[:i])
		}
	case "jailbreakbench-artifacts", "jailbreakbench-behaviors":
		if r.Goal != "" {
			keys = append(keys, "jbb:"+r.Goal)
		}
	case "bipia-email", "bipia-code", "bipia-table":
		ctx := r.ID
		if i := strings.Index(ctx, "-inj"); i > 0 {
			ctx = ctx[:i]
		}
		// Injected rows move with their attack text; clean contexts by
		// themselves (a context can carry attacks on both sides, which
		// is the realistic case: the attack is what is new).
		if r.Attack != "" {
			keys = append(keys, "attack:"+r.Attack)
		} else {
			keys = append(keys, "bipia:"+r.Source+":"+ctx)
		}
	}
	// Long templates (jailbreak personas) that open alike are variants of
	// one another. (Not for JailbreakBench, whose AIM-template rows would
	// otherwise tie all its behaviour goals into one group.)
	if len(r.key) >= 200 && r.Source != "jailbreakbench-artifacts" && !(bipiaSplit && strings.HasPrefix(r.Source, "bipia-")) {
		keys = append(keys, "prefix:"+r.key[:64])
	}
	return keys
}

// dedupe merges rows with the same normalised text. A text labelled
// positive (injection, jailbreak) by one source and negative (benign,
// harmful) by another is benign: the known cases are 'I want you to act as
// …' persona requests that deepset labels as task diversion and the
// in-the-wild set lists among jailbreaks, while awesome-chatgpt-prompts
// has them as ordinary requests, which is what they are for a general
// assistant.
func dedupe(rows []*row) ([]*row, []string) {
	byKey := map[string]*row{}
	labels := map[string]map[string]string{}
	var out []*row
	for _, r := range rows {
		if first, ok := byKey[r.key]; ok {
			labels[r.key][r.Label] = r.Source
			first.trainable = first.trainable || r.trainable
			first.groups = append(first.groups, r.groups[1:]...)
			continue
		}
		byKey[r.key] = r
		labels[r.key] = map[string]string{r.Label: r.Source}
		out = append(out, r)
	}
	var conflicts []string
	for _, r := range out {
		ls := labels[r.key]
		pos, neg := false, false
		for l := range ls {
			if positive(l) {
				pos = true
			} else {
				neg = true
			}
		}
		if pos && neg {
			var desc []string
			for l, s := range ls {
				desc = append(desc, l+"@"+s)
			}
			slices.Sort(desc)
			r.Label = "benign"
			t := r.Text
			if len(t) > 60 {
				t = t[:60] + "…"
			}
			conflicts = append(conflicts, fmt.Sprintf("%q %v -> benign", t, desc))
		}
	}
	return out, conflicts
}

// components joins rows sharing a group key (union-find) and numbers the
// components.
func components(rows []*row) int {
	parent := make([]int, len(rows))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, r := range rows {
		for _, k := range r.groups {
			if j, ok := owner[k]; ok {
				a, b := find(i), find(j)
				if a != b {
					parent[max(a, b)] = min(a, b)
				}
			} else {
				owner[k] = i
			}
		}
	}
	ids := map[int]int{}
	for i, r := range rows {
		root := find(i)
		id, ok := ids[root]
		if !ok {
			id = len(ids)
			ids[root] = id
		}
		r.comp = id
	}
	return len(ids)
}

func unit(seed uint64, salt string, comp int, key string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d/%s", seed, salt, comp, key)
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return float64(x>>11) / (1 << 53)
}

// bipiaPart is "train" or "test" for a BIPIA row (from its id, BIPIA's own
// split of contexts and attacks), "" for other rows.
func bipiaPart(r *row) string {
	if !strings.HasPrefix(r.Source, "bipia-") {
		return ""
	}
	switch {
	case strings.Contains(r.ID, "-train-"):
		return "train"
	case strings.Contains(r.ID, "-test-"):
		return "test"
	}
	return ""
}

// split assigns components: dev with probability devFrac, calibration
// with calibFrac of the rest, train otherwise. Evaluation-only rows go to
// dev or nowhere (XQuAD is sampled down to about xquadDev rows).
//
// With bipiaSplit (the fourth round on), BIPIA rows follow BIPIA's own
// split: a component holding a row of BIPIA's test part (test contexts with
// test attacks, or a clean test context) goes to dev; one holding a BIPIA
// train-part row never does (its rows keep the usual draw between train and
// calibration, redrawn for the components the usual draw put in dev). The
// evaluation-only code and table rows built from BIPIA's train attacks
// are then in neither part: they are returned as val, which only the
// cross-validation scores (their attack texts are trained on, planted in
// other contexts by synthesize). Clean code and table contexts stay in dev.
// Every other row keeps the draw of the first three rounds.
func split(rows []*row, ncomp int, seed uint64, bipiaSplit bool) (train, calib, dev, val []*row, err error) {
	forceDev, noDev := make([]bool, ncomp), make([]bool, ncomp)
	if bipiaSplit {
		for _, r := range rows {
			switch bipiaPart(r) {
			case "test":
				forceDev[r.comp] = true
			case "train":
				noDev[r.comp] = true
			}
		}
		for c := range ncomp {
			if forceDev[c] && noDev[c] {
				return nil, nil, nil, nil, fmt.Errorf("split component %d holds rows of both BIPIA parts", c)
			}
		}
	}
	// A component's representative key: its smallest member text, so the
	// assignment does not depend on row order.
	rep := make([]string, ncomp)
	for _, r := range rows {
		if rep[r.comp] == "" || r.key < rep[r.comp] {
			rep[r.comp] = r.key
		}
	}
	var xquad int
	for _, r := range rows {
		if r.Source == "xquad" {
			xquad++
		}
	}
	for _, r := range rows {
		u := unit(seed, "split", 0, rep[r.comp])
		if noDev[r.comp] && u < devFrac {
			u = devFrac + (1-devFrac)*unit(seed, "split-nodev", 0, rep[r.comp])
		}
		switch {
		case bipiaSplit && !r.trainable && r.Attack != "" && bipiaPart(r) == "train":
			val = append(val, r)
		case forceDev[r.comp]:
			dev = append(dev, r)
		case !r.trainable:
			if r.Source == "xquad" && unit(seed, "xquad", 0, rep[r.comp]) >= float64(xquadDev)/float64(xquad) {
				continue
			}
			dev = append(dev, r)
		case u < devFrac:
			dev = append(dev, r)
		case u < devFrac+(1-devFrac)*calibFrac:
			calib = append(calib, r)
		default:
			train = append(train, r)
		}
	}
	return train, calib, dev, val, nil
}

// obfuscate returns a variant of text as attackers disguise prompts:
// leetspeak, split letters or zero-width characters between letters.
func obfuscate(text string, rng *rand.Rand) string {
	var b strings.Builder
	switch rng.IntN(3) {
	case 0:
		sub := map[rune]rune{'a': '4', 'e': '3', 'i': '1', 'o': '0', 's': '5', 't': '7'}
		for _, r := range text {
			if s, ok := sub[r]; ok && rng.IntN(2) == 0 {
				r = s
			}
			b.WriteRune(r)
		}
	case 1:
		for i, w := range strings.Fields(text) {
			if i > 0 {
				b.WriteByte(' ')
			}
			if i < 12 && len(w) > 3 {
				b.WriteString(strings.Join(strings.Split(w, ""), " "))
			} else {
				b.WriteString(w)
			}
		}
	default:
		for _, r := range text {
			b.WriteRune(r)
			if rng.IntN(3) == 0 {
				b.WriteRune('\u200b')
			}
		}
	}
	return b.String()
}

func write(dir string, m *classify.Model, c evidence.Combiner, dev []*row) error {
	if err := m.SetThreshold(c.Threshold); err != nil {
		return err
	}
	bin, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "model.bin"), bin, 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	cj, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "combiner.json"), append(cj, '\n'), 0o644); err != nil {
		return fmt.Errorf("write combiner: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range dev {
		out := struct {
			Text   string `json:"text"`
			Label  string `json:"label"`
			Family string `json:"family,omitempty"`
			Lang   string `json:"lang,omitempty"`
			Source string `json:"source"`
			Role   string `json:"role,omitempty"`
		}{r.Text, r.Label, r.Family, r.Lang, r.Source, r.Role}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "testdata", "dev.jsonl"), buf.Bytes(), 0o644); err != nil {
		return errors.Join(errors.New("write dev split"), err)
	}
	return nil
}

func report(w io.Writer, p *evidence.Pipeline, dev []*row) {
	sc := new(evidence.Scratch)
	scores := make([]float64, len(dev))
	labels := make([]bool, len(dev))
	for i, r := range dev {
		scores[i] = p.Score(r.Text, r.Role == "document", sc).Score
		labels[i] = positive(r.Label)
	}
	t := p.Combiner.Threshold
	line := func(name string, keep func(r *row) bool) {
		var s []float64
		var l []bool
		for i, r := range dev {
			if keep(r) {
				s = append(s, scores[i])
				l = append(l, labels[i])
			}
		}
		if len(s) == 0 {
			return
		}
		m := metrics.Measure(s, l, t)
		fmt.Fprintf(w, "%-40s n=%5d pos=%4d  P=%.3f R=%.3f F1=%.3f FPR=%.4f AUC=%.4f R@1%%FPR=%.3f\n",
			name, m.N, m.Pos, m.Precision, m.Recall, m.F1, m.FPR, m.AUC, m.RecallAt1FPR)
	}
	fmt.Fprintf(w, "\ndev figures at threshold %.4f\n", t)
	line("all", func(*row) bool { return true })
	line("direct (role != document)", func(r *row) bool { return r.Role != "document" })
	line("indirect (role = document)", func(r *row) bool { return r.Role == "document" })
	line("trainable sources only", func(r *row) bool { return r.trainable })
	benign := func(r *row) bool { return r.Label == "benign" && r.Role != "document" }
	line("benign prompts", benign)
	line("hard negatives", func(r *row) bool { return slices.Contains(hardNegatives, r.Source) })
	// The figure: recall at the threshold where 1 % of the benign
	// prompts (label benign, not documents) are flagged.
	var neg []float64
	for i, r := range dev {
		if benign(r) {
			neg = append(neg, scores[i])
		}
	}
	tb := metrics.ThresholdAtFPR(neg, 0.01)
	for _, sl := range []struct {
		name string
		keep func(*row) bool
	}{{"all", func(*row) bool { return true }}, {"direct", func(r *row) bool { return r.Role != "document" }}, {"indirect", func(r *row) bool { return r.Role == "document" }}} {
		var n, hit int
		for i, r := range dev {
			if labels[i] && sl.keep(r) {
				n++
				if scores[i] >= tb {
					hit++
				}
			}
		}
		if n > 0 {
			fmt.Fprintf(w, "recall at 1%% FPR on benign prompts (threshold %.4f), %-8s positives %4d: %.3f\n", tb, sl.name, n, float64(hit)/float64(n))
		}
	}
	var srcs, langs []string
	for _, r := range dev {
		if !slices.Contains(srcs, r.Source) {
			srcs = append(srcs, r.Source)
		}
		if r.Lang != "" && !slices.Contains(langs, r.Lang) {
			langs = append(langs, r.Lang)
		}
	}
	slices.Sort(srcs)
	slices.Sort(langs)
	fmt.Fprintln(w, "\nper source")
	for _, s := range srcs {
		line("  "+s, func(r *row) bool { return r.Source == s })
	}
	fmt.Fprintln(w, "\nper language")
	for _, l := range langs {
		line("  "+l, func(r *row) bool { return r.Lang == l })
	}
}

// scriptWeights returns per-row weights that balance the classes within
// each script. A script with fewer than minPerClass rows of either class
// gives its rows weight 0: the classifier would learn the script itself
// (Cyrillic, Greek and Japanese have translated attacks but almost no
// benign rows with a licence that lets us train); the phrase rules cover
// those languages instead.
func scriptWeights(rows []*row, w io.Writer) (func(*row) float64, []string) {
	type pn struct{ p, n float64 }
	counts := map[string]*pn{}
	var total pn
	for _, r := range rows {
		s := evidence.DominantScript(textnorm.Fold(nil, r.Text)).String()
		if counts[s] == nil {
			counts[s] = &pn{}
		}
		if positive(r.Label) {
			counts[s].p++
			total.p++
		} else {
			counts[s].n++
			total.n++
		}
	}
	keys := slices.Sorted(maps.Keys(counts))
	var trained []string
	for _, k := range keys {
		fmt.Fprintf(w, "script %-11s train+calibration positives %5.0f negatives %5.0f\n", k, counts[k].p, counts[k].n)
		if counts[k].p >= minPerClass && counts[k].n >= minPerClass {
			trained = append(trained, k)
		}
	}
	return func(r *row) float64 {
		c := counts[evidence.DominantScript(textnorm.Fold(nil, r.Text)).String()]
		if c.p < minPerClass || c.n < minPerClass {
			return 0
		}
		if positive(r.Label) {
			return (c.p + c.n) / (2 * c.p)
		}
		return (c.p + c.n) / (2 * c.n)
	}, trained
}

// sourceBalanced rescales w so that, within each class, a source of n rows
// carries weight in proportion to sqrt(n) rather than n, keeping each
// class's total weight: large sources (in-the-wild jailbreak templates,
// code-generation prompts) then dominate the fit less.
func sourceBalanced(rows []*row, w func(*row) float64) func(*row) float64 {
	n := map[string]float64{}
	key := func(r *row) string { return fmt.Sprint(positive(r.Label), "/", r.Source) }
	for _, r := range rows {
		n[key(r)]++
	}
	var before, after [2]float64
	for _, r := range rows {
		c := 0
		if positive(r.Label) {
			c = 1
		}
		b := max(w(r), 0)
		before[c] += b
		after[c] += b / math.Sqrt(n[key(r)])
	}
	return func(r *row) float64 {
		b := w(r)
		if b <= 0 {
			return b
		}
		c := 0
		if positive(r.Label) {
			c = 1
		}
		k := n[key(r)]
		if k == 0 || after[c] == 0 {
			return b
		}
		return b / math.Sqrt(k) * before[c] / after[c]
	}
}
