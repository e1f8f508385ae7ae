// Command mkdev writes the pii detector's span-level development set,
// detect/pii/testdata/dev.jsonl, from the shared pii-presidio-synth data.
//
// The rows are split by template: the distinct template ids are shuffled
// with a seeded generator and the first half become training templates,
// the rest development templates. Only development rows are written, as
// they are in the source (text, label, entities with the source's type
// names and code-point offsets, source, lang, template_id, id). With
// -train, the training rows are written to that path too (for tuning; do
// not commit them).
//
//	go run ./detect/pii/internal/mkdev -shared ../shared/datasets -seed 1
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

func main() {
	shared := flag.String("shared", "../shared/datasets", "folder of the shared datasets")
	seed := flag.Uint64("seed", 1, "seed of the template split")
	out := flag.String("out", "detect/pii/testdata/dev.jsonl", "development rows are written here")
	train := flag.String("train", "", "if set, training rows are written here")
	flag.Parse()
	if err := run(*shared, *seed, *out, *train); err != nil {
		slog.Error("mkdev", "err", err)
		os.Exit(1)
	}
}

// row keeps the source's fields in its order; Template is read to split.
type row struct {
	Template int             `json:"template_id"`
	Raw      json.RawMessage `json:"-"`
}

func run(shared string, seed uint64, out, train string) error {
	in := filepath.Join(shared, "pii-presidio-synth", "data.jsonl")
	rows, err := read(in)
	if err != nil {
		return err
	}
	dev := DevTemplates(templates(rows), seed)
	var devRows, trainRows [][]byte
	for _, r := range rows {
		if dev[r.Template] {
			devRows = append(devRows, r.Raw)
		} else {
			trainRows = append(trainRows, r.Raw)
		}
	}
	if err := write(out, devRows); err != nil {
		return err
	}
	slog.Info("wrote development rows", "path", out, "rows", len(devRows), "templates", len(dev), "seed", seed)
	if train != "" {
		if err := write(train, trainRows); err != nil {
			return err
		}
		slog.Info("wrote training rows", "path", train, "rows", len(trainRows))
	}
	return nil
}

func read(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the presidio data: %w", err)
	}
	defer f.Close()
	var rows []row
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && !(len(line) == 1 && line[0] == '\n') {
			var r row
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, jerr)
			}
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			r.Raw = line
			rows = append(rows, r)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s has no rows", path)
	}
	return rows, nil
}

func templates(rows []row) []int {
	var ids []int
	for _, r := range rows {
		ids = append(ids, r.Template)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// DevTemplates shuffles the sorted template ids with seed and returns the
// second half as the development set.
func DevTemplates(ids []int, seed uint64) map[int]bool {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	dev := make(map[int]bool, len(ids)-len(ids)/2)
	for _, id := range ids[len(ids)/2:] {
		dev[id] = true
	}
	return dev
}

func write(path string, rows [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	for _, r := range rows {
		w.Write(r)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
