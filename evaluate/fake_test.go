package evaluate

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

var fakeRule = &finding.Rule{ID: "fake.score", Title: "fake", Severity: finding.High}

// scorer is a classifier-like fake: a text starting "s=0.7 " gets one hit
// over the whole text scoring 0.7; "boom" fails; otherwise no hit. Each
// occurrence of "SECRET" is also a span hit labelled SECRET (score 0.9),
// and of "low" a span hit labelled SECRET scoring 0.2. It records the roles
// it saw.
type scorer struct {
	mu    sync.Mutex
	roles []detect.Role
	thr   float64
}

func (s *scorer) Name() string           { return "fake" }
func (s *scorer) Rules() []*finding.Rule { return []*finding.Rule{fakeRule} }
func (s *scorer) Threshold() float64     { return s.thr }

func (s *scorer) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	s.mu.Lock()
	s.roles = append(s.roles, in.Role)
	s.mu.Unlock()
	if strings.HasPrefix(in.Text, "boom") {
		return nil, errors.New("boom")
	}
	var hits []detect.Hit
	if v, ok := strings.CutPrefix(in.Text, "s="); ok {
		num, _, _ := strings.Cut(v, " ")
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, err
		}
		hits = append(hits, detect.Hit{Rule: fakeRule, Start: 0, End: len(in.Text), Score: f, Label: "WHOLE"})
	}
	for _, w := range []struct {
		word  string
		score float64
	}{{"SECRET", 0.9}, {"low", 0.2}} {
		for i := 0; ; {
			j := strings.Index(in.Text[i:], w.word)
			if j < 0 {
				break
			}
			hits = append(hits, detect.Hit{Rule: fakeRule, Start: i + j, End: i + j + len(w.word), Score: w.score, Label: "SECRET"})
			i += j + len(w.word)
		}
	}
	return hits, nil
}

// rowFake is a RowDetector: it flags a row whose "system" field occurs in
// its text.
type rowFake struct{ scorer }

func (r *rowFake) DetectRow(_ context.Context, in detect.Input, row map[string]json.RawMessage) ([]detect.Hit, error) {
	var sys string
	if raw, ok := row["system"]; ok {
		if err := json.Unmarshal(raw, &sys); err != nil {
			return nil, err
		}
	}
	if sys != "" {
		if i := strings.Index(in.Text, sys); i >= 0 {
			return []detect.Hit{{Rule: fakeRule, Start: i, End: i + len(sys), Score: 1, Label: "LEAK"}}, nil
		}
	}
	return nil, nil
}
