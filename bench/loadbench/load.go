package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// words are the vocabulary of the benchmark's prompts and replies: plain
// prose that no detector should flag, so that every target answers the
// same text.
var words = strings.Fields(`the a of to and in that is for on with as by this be are from at it an or
which was not have has will can would should could their there these those more most other some such
only also into over than then when where while after before about between through during under again
request response model policy system service customer account report summary section document review
analysis quarter revenue growth market product team project plan schedule meeting decision question
answer example context detail language reason result value change update release version feature
support issue problem solution approach method process step order status record history source
please explain describe compare summarise list outline draft improve translate rewrite check consider
carefully briefly clearly politely formally quickly simply exactly roughly mainly usually often`)

// prose returns n bytes of deterministic sentence-like text drawn from words with the given seed.
func prose(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	var b strings.Builder
	b.Grow(n + 16)
	start := true
	for b.Len() < n {
		w := words[r.IntN(len(words))]
		if start {
			w = strings.ToUpper(w[:1]) + w[1:]
			start = false
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		if r.IntN(12) == 0 {
			b.WriteByte('.')
			start = true
		} else if r.IntN(10) == 0 {
			b.WriteByte(',')
		}
	}
	return b.String()[:n]
}

// systemPrompt is the system message of every request.
const systemPrompt = "You are a helpful assistant for the finance team. Answer concisely, in plain English, " +
	"and cite the section of the quarterly report that supports each statement."

// model is the model every request asks for.
const model = "gpt-4o-mini"

// chatBody returns an OpenAI chat completion request whose two messages
// (system and user) hold promptBytes bytes of text together.
func chatBody(promptBytes int, stream bool, seed uint64) ([]byte, error) {
	userBytes := promptBytes - len(systemPrompt)
	if userBytes < 16 {
		return nil, fmt.Errorf("prompt size %d is too small: the system message alone is %d bytes", promptBytes, len(systemPrompt))
	}
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	body := struct {
		Model       string    `json:"model"`
		Messages    []message `json:"messages"`
		Temperature float64   `json:"temperature"`
		Stream      bool      `json:"stream,omitempty"`
	}{
		Model:       model,
		Messages:    []message{{"system", systemPrompt}, {"user", prose(userBytes, seed)}},
		Temperature: 0.2,
		Stream:      stream,
	}
	return json.Marshal(body)
}

// bodySet is a few different request bodies of one scenario, used in turn.
const bodySet = 16

func scenarioBodies(sc scenario) ([][]byte, error) {
	out := make([][]byte, bodySet)
	for i := range out {
		b, err := chatBody(sc.PromptBytes, sc.Stream, uint64(sc.PromptBytes)*1000+uint64(i))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// target is one server the load is driven against.
type target struct {
	Name   string
	URL    string // the chat completions endpoint
	Auth   string // the bearer credential
	client *http.Client
}

func newClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			// Below the servers' read_header_timeout (10 s), which a Go
			// server arms from accept on a new connection: a connection
			// dialled but not used by the run that dialled it must not be
			// picked up by a later run after the server dropped it (Go does
			// not retry a POST on a connection that never carried a request).
			IdleConnTimeout:    5 * time.Second,
			DisableCompression: true,
		},
		Timeout: 30 * time.Second,
	}
}

// outcome is the client-side view of one request. Times are from the
// moment the request was due to be sent (not when it was sent), so that a
// late sender or a queue in front of the server counts as latency.
type outcome struct {
	Total time.Duration // to the last byte of the response
	First time.Duration // streaming: to the first byte of content
	Lag   time.Duration // how late the request left the client
	Err   error
}

// do sends one request and checks its answer: status 200, well-formed,
// and the content the upstream was told to send, exactly.
func (t *target) do(ctx context.Context, due time.Time, body []byte, stream bool, want string) outcome {
	var o outcome
	o.Lag = time.Since(due)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		o.Err = err
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.Auth)
	resp, err := t.client.Do(req)
	if err != nil {
		o.Err = err
		return o
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		o.Err = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
		return o
	}
	if stream {
		o.First, o.Err = readStream(resp, due, want)
	} else {
		o.Err = readUnary(resp.Body, want)
	}
	o.Total = time.Since(due)
	if stream && o.Err == nil && o.First == 0 {
		o.Err = errors.New("stream carried no content")
	}
	return o
}

// readUnary checks a chat completion object.
func readUnary(r io.Reader, want string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	var v struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if v.Object != "chat.completion" || len(v.Choices) != 1 {
		return fmt.Errorf("not a chat completion with one choice: %.200s", b)
	}
	if got := v.Choices[0].Message.Content; got != want {
		return fmt.Errorf("content differs from the upstream's reply: got %d bytes %.80q, want %d bytes", len(got), got, len(want))
	}
	return nil
}

// readStream reads a chat completion event stream to its end and returns
// the time from due to the first content.
func readStream(resp *http.Response, due time.Time, want string) (time.Duration, error) {
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return 0, fmt.Errorf("content type %q, want text/event-stream", ct)
	}
	return parseStream(resp.Body, func() time.Duration { return time.Since(due) }, want)
}

// parseStream checks an SSE stream of chat completion chunks: every data
// line is a chunk (or the final [DONE]), and the contents put together are
// want. It returns now() at the first non-empty content.
func parseStream(r io.Reader, now func() time.Duration, want string) (time.Duration, error) {
	br := bufio.NewReaderSize(r, 16<<10)
	var first time.Duration
	var got strings.Builder
	done := false
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			return first, errors.New("stream line longer than 16 KiB")
		case err != nil && err != io.EOF:
			return first, fmt.Errorf("read stream: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = bytes.TrimPrefix(data, []byte(" "))
			if done {
				return first, errors.New("data after [DONE]")
			}
			if string(data) == "[DONE]" {
				done = true
			} else {
				var ch struct {
					Object  string `json:"object"`
					Choices []struct {
						Delta struct {
							Content string `json:"content"`
						} `json:"delta"`
					} `json:"choices"`
				}
				if jerr := json.Unmarshal(data, &ch); jerr != nil {
					return first, fmt.Errorf("stream chunk is not JSON: %w: %.200s", jerr, data)
				}
				if ch.Object != "chat.completion.chunk" {
					return first, fmt.Errorf("stream event is not a chat.completion.chunk: %.200s", data)
				}
				for _, c := range ch.Choices {
					if c.Delta.Content != "" && first == 0 {
						first = now()
					}
					got.WriteString(c.Delta.Content)
				}
			}
		}
		if err == io.EOF {
			break
		}
	}
	if !done {
		return first, errors.New("stream ended without [DONE]")
	}
	if got.String() != want {
		return first, fmt.Errorf("streamed content differs from the upstream's reply: got %d bytes, want %d", got.Len(), len(want))
	}
	return first, nil
}

// openLoop sends n requests at fixed intervals of 1/rate from start,
// whether or not earlier ones have completed, and returns their outcomes
// in order. It does not coordinate with the server: a slow answer delays
// no later request.
func openLoop(ctx context.Context, t *target, bodies [][]byte, stream bool, want string, rate float64, n int) []outcome {
	out := make([]outcome, n)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now().Add(time.Millisecond)
	var wg sync.WaitGroup
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			out[i].Err = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = t.do(ctx, due, bodies[i%len(bodies)], stream, want)
		}()
	}
	wg.Wait()
	return out
}

// closedLoop keeps conc requests in flight for d and returns the number
// completed and the first error.
func closedLoop(ctx context.Context, t *target, bodies [][]byte, stream bool, want string, conc int, d time.Duration) (int, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	deadline := start.Add(d)
	var mu sync.Mutex
	var count int
	var firstErr error
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i += conc {
				o := t.do(ctx, time.Now(), bodies[i%len(bodies)], stream, want)
				mu.Lock()
				if o.Err != nil {
					if firstErr == nil {
						firstErr = o.Err
						cancel()
					}
					mu.Unlock()
					return
				}
				count++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return count, time.Since(start), firstErr
}

// quantile returns the q-quantile (0..1) of sorted by nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func sortedOf(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}
