package injection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/detect"
)

// external calls a guard model served in the shape of Hugging Face
// text-embeddings-inference's /predict: POST {"inputs": "text"} answers
// [{"label": "...", "score": ...}, ...]; POST {"inputs": ["a", "b"]}
// answers one such list per input.
type external struct {
	url      string
	timeout  time.Duration
	failOpen bool
	weight   float64
	labels   []string
	client   *http.Client
	failures atomic.Int64
}

// maxResponse bounds the answer read from the external model.
const maxResponse = 1 << 20

func newExternal(o detect.Options) (*external, error) {
	if err := o.Check("url", "timeout", "fail", "weight", "labels"); err != nil {
		return nil, err
	}
	e := &external{timeout: time.Second, weight: 0.5, client: &http.Client{}}
	raw, _ := o["url"].(string)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want an http or https URL", raw)
	}
	e.url = raw
	switch v := o["timeout"].(type) {
	case nil:
	case string:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout %q: want a positive duration such as 500ms", v)
		}
		e.timeout = d
	default:
		return nil, fmt.Errorf("timeout is %T, want a duration such as 500ms", v)
	}
	switch v := o["fail"].(type) {
	case nil, string:
		switch v {
		case nil, "closed":
		case "open":
			e.failOpen = true
		default:
			return nil, fmt.Errorf("fail %q: want open or closed", v)
		}
	default:
		return nil, fmt.Errorf("fail is %T, want open or closed", v)
	}
	if _, ok := o["weight"]; ok {
		w, err := float(o, "weight")
		if err != nil {
			return nil, err
		}
		if !(w >= 0 && w <= 1) {
			return nil, fmt.Errorf("weight %v outside [0, 1]", w)
		}
		e.weight = w
	}
	labels, err := o.Strings("labels")
	if err != nil {
		return nil, err
	}
	for _, l := range labels {
		e.labels = append(e.labels, strings.ToLower(l))
	}
	return e, nil
}

type prediction struct {
	Label string   `json:"label"`
	Score *float64 `json:"score"`
}

// score asks the external model about one text.
func (e *external) score(ctx context.Context, text string) (float64, error) {
	body, err := e.post(ctx, map[string]any{"inputs": text})
	if err != nil {
		return 0, err
	}
	var preds []prediction
	if err := json.Unmarshal(body, &preds); err != nil {
		// Some servers answer a single input in the batch shape.
		var batch [][]prediction
		if err2 := json.Unmarshal(body, &batch); err2 != nil || len(batch) != 1 {
			return 0, fmt.Errorf("decode answer: %w", err)
		}
		preds = batch[0]
	}
	return e.injectionScore(preds)
}

// scoreBatch asks the external model about several texts at once.
func (e *external) scoreBatch(ctx context.Context, texts []string) ([]float64, error) {
	body, err := e.post(ctx, map[string]any{"inputs": texts})
	if err != nil {
		return nil, err
	}
	var batch [][]prediction
	if err := json.Unmarshal(body, &batch); err != nil {
		return nil, fmt.Errorf("decode batch answer: %w", err)
	}
	if len(batch) != len(texts) {
		return nil, fmt.Errorf("batch answer has %d results for %d inputs", len(batch), len(texts))
	}
	out := make([]float64, len(texts))
	for i, p := range batch {
		s, err := e.injectionScore(p)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

func (e *external) post(ctx context.Context, payload any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", e.url, resp.Status)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("answer longer than %d bytes", maxResponse)
	}
	return body, nil
}

func (e *external) positive(label string) bool {
	l := strings.ToLower(label)
	if len(e.labels) > 0 {
		for _, x := range e.labels {
			if l == x {
				return true
			}
		}
		return false
	}
	return strings.Contains(l, "inject") || strings.Contains(l, "jailbreak") || strings.Contains(l, "unsafe") ||
		strings.Contains(l, "malicious") || l == "label_1"
}

// injectionScore maps the model's labels to the probability of injection:
// the sum of the positive labels' scores when any is present, else one
// minus the sum of the others (a model that reports only its top label).
func (e *external) injectionScore(preds []prediction) (float64, error) {
	if len(preds) == 0 {
		return 0, errors.New("answer has no predictions")
	}
	var pos, neg float64
	havePos := false
	for _, p := range preds {
		if p.Score == nil || math.IsNaN(*p.Score) || *p.Score < 0 || *p.Score > 1 {
			return 0, fmt.Errorf("prediction %q has no score in [0, 1]", p.Label)
		}
		if e.positive(p.Label) {
			pos += *p.Score
			havePos = true
		} else {
			neg += *p.Score
		}
	}
	if havePos {
		return min(pos, 1), nil
	}
	return max(0, 1-neg), nil
}

// combine averages the two scores' logits with the external model's
// weight.
func (e *external) combine(ours, theirs float64) float64 {
	const eps = 1e-6
	lo := func(p float64) float64 {
		p = min(max(p, eps), 1-eps)
		return math.Log(p / (1 - p))
	}
	z := (1-e.weight)*lo(ours) + e.weight*lo(theirs)
	return 1 / (1 + math.Exp(-z))
}

// noteFailOpen logs a failure that was scored without the external model;
// it logs the first failure and then every hundredth.
func (e *external) noteFailOpen(err error) {
	if n := e.failures.Add(1); n == 1 || n%100 == 0 {
		slog.Warn("injection: external classifier failed; scoring without it (fail: open)", "err", err, "failures", n)
	}
}
