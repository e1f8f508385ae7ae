// Package fakeupstream is a fast, scriptable stand-in for an
// OpenAI-compatible provider, for tests and benchmarks of the gateway. It
// serves /v1/chat/completions, /v1/completions, /v1/embeddings,
// /v1/responses (each streamed or not) and /v1/models, checks the upstream
// credential, records what it received, and can misbehave on demand: fail
// with a status, send malformed JSON, or cut a stream midway.
//
// It is a test double for the external LLM provider only; everything of
// Rampart's own is tested for real.
package fakeupstream

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Behaviour scripts the fake's answers. Zero values give a well-behaved
// upstream that answers "Hello from the fake upstream." in 4-byte chunks.
type Behaviour struct {
	// Reply is the text the model "writes"; empty uses a default. With
	// Echo, the last user message is answered back instead.
	Reply string
	Echo  bool
	// ChunkSize splits streamed replies into chunks of this many bytes
	// (default 4); Chunks, when set, gives the exact chunks instead.
	ChunkSize int
	Chunks    []string
	// ChunkDelay sleeps between streamed chunks.
	ChunkDelay time.Duration
	// Delay sleeps before answering.
	Delay time.Duration
	// Status, when not 0 or 200, answers with this status and ErrorBody
	// (default an OpenAI-shaped error).
	Status    int
	ErrorBody string
	// Malformed answers 200 with a body that is not valid JSON.
	Malformed bool
	// CutAfter ends a stream abruptly (no [DONE], the connection closed)
	// after this many chunks; 0 means never.
	CutAfter int
	// IncludeUsage sends usage in streams even if not asked.
	IncludeUsage bool
	// ToolCall answers with a tool call whose arguments are Reply.
	ToolCall bool
	// Models lists the models /v1/models reports.
	Models []string
}

// Request is what the fake received.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
}

// Server is the fake upstream as an http.Handler.
type Server struct {
	// Key is the credential the fake requires ("Authorization: Bearer
	// KEY"); empty accepts anything.
	Key string

	mu       sync.Mutex
	b        Behaviour
	requests []Request
	record   bool
	aborted  atomic.Int64
}

// Aborted counts requests whose client (the gateway) went away before the
// fake finished answering.
func (s *Server) Aborted() int64 { return s.aborted.Load() }

// New returns a fake that requires key (empty: none) and records the
// requests it receives when record is true.
func New(key string, record bool) *Server {
	return &Server{Key: key, record: record}
}

// Set replaces the behaviour.
func (s *Server) Set(b Behaviour) {
	s.mu.Lock()
	s.b = b
	s.mu.Unlock()
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Last returns the last recorded request.
func (s *Server) Last() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return s.requests[len(s.requests)-1], true
}

const defaultReply = "Hello from the fake upstream."

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b := s.b
	s.mu.Unlock()
	var body []byte
	if r.Body != nil {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		body = buf.Bytes()
	}
	if s.record {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
	}
	defer func() {
		if r.Context().Err() != nil {
			s.aborted.Add(1)
		}
	}()
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		writeError(w, http.StatusUnauthorized, "Incorrect API key provided.", "invalid_api_key")
		return
	}
	if b.Delay > 0 {
		select {
		case <-time.After(b.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if b.Status != 0 && b.Status != http.StatusOK {
		if b.ErrorBody != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(b.Status)
			_, _ = w.Write([]byte(b.ErrorBody))
			return
		}
		writeError(w, b.Status, fmt.Sprintf("the fake upstream was told to fail with %d", b.Status), "fake_failure")
		return
	}
	if b.Malformed {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "chatcmpl-1", "choices": [`))
		return
	}
	var req struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
		Input          any    `json:"input"`
		EncodingFormat string `json:"encoding_format"`
		Prompt         any    `json:"prompt"`
		StreamOptions  *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if r.Method == http.MethodPost {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_json")
			return
		}
	}
	reply := b.Reply
	if reply == "" {
		reply = defaultReply
	}
	if b.Echo {
		reply = echoOf(req.Messages, req.Input, req.Prompt)
	}
	usage := b.IncludeUsage || (req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
	switch r.URL.Path {
	case "/v1/chat/completions":
		if req.Stream {
			s.streamChat(w, r, b, req.Model, reply, usage)
			return
		}
		writeJSON(w, chatCompletion(req.Model, reply, b.ToolCall))
	case "/v1/completions":
		if req.Stream {
			s.streamCompletions(w, r, b, req.Model, reply)
			return
		}
		writeJSON(w, map[string]any{
			"id": "cmpl-fake", "object": "text_completion", "created": 1700000000, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": reply, "finish_reason": "stop", "logprobs": nil}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
		})
	case "/v1/embeddings":
		n := 1
		if arr, ok := req.Input.([]any); ok {
			n = len(arr)
		}
		vec := []float32{0.1, -0.2, 0.3}
		var emb any = vec
		if req.EncodingFormat == "base64" {
			// What the official SDKs ask for by default: little-endian
			// float32s, base64-encoded.
			raw := make([]byte, 4*len(vec))
			for i, f := range vec {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(raw)
		}
		data := make([]any, n)
		for i := range data {
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
		}
		writeJSON(w, map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]any{"prompt_tokens": 4, "total_tokens": 4}})
	case "/v1/responses":
		if req.Stream {
			s.streamResponses(w, r, b, req.Model, reply)
			return
		}
		writeJSON(w, responseObject(req.Model, reply, "completed"))
	case "/v1/models":
		models := b.Models
		if models == nil {
			models = []string{"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"}
		}
		data := make([]any, len(models))
		for i, m := range models {
			data[i] = map[string]any{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
		}
		writeJSON(w, map[string]any{"object": "list", "data": data})
	default:
		writeError(w, http.StatusNotFound, "unknown path "+r.URL.Path, "unknown_url")
	}
}

// echoOf returns the last user text of a request.
func echoOf(msgs []struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}, input, prompt any) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			switch c := msgs[i].Content.(type) {
			case string:
				return c
			case []any:
				var sb strings.Builder
				for _, p := range c {
					if m, ok := p.(map[string]any); ok {
						if t, ok := m["text"].(string); ok {
							sb.WriteString(t)
						}
					}
				}
				return sb.String()
			}
		}
	}
	if s, ok := input.(string); ok {
		return s
	}
	if s, ok := prompt.(string); ok {
		return s
	}
	return defaultReply
}

func chatCompletion(model, reply string, tool bool) map[string]any {
	msg := map[string]any{"role": "assistant", "content": reply, "refusal": nil}
	finish := "stop"
	if tool {
		msg["content"] = nil
		msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": "lookup", "arguments": reply}}}
		finish = "tool_calls"
	}
	return map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
		"system_fingerprint": "fp_fake",
		"choices":            []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage":              map[string]any{"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
	}
}

func responseObject(model, reply, status string) map[string]any {
	return map[string]any{
		"id": "resp_fake", "object": "response", "created_at": 1700000000, "status": status, "model": model,
		"output": []any{map[string]any{"type": "message", "id": "msg_fake", "status": "completed", "role": "assistant",
			"content": []any{map[string]any{"type": "output_text", "text": reply, "annotations": []any{}}}}},
		"usage": map[string]any{"input_tokens": 9, "output_tokens": 12, "total_tokens": 21},
	}
}

// chunks splits reply as the behaviour says.
func chunks(b Behaviour, reply string) []string {
	if b.Chunks != nil {
		return b.Chunks
	}
	n := b.ChunkSize
	if n <= 0 {
		n = 4
	}
	var out []string
	for len(reply) > 0 {
		k := min(n, len(reply))
		out = append(out, reply[:k])
		reply = reply[k:]
	}
	return out
}

type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w)}
	_ = s.rc.Flush()
	return s
}

func (s *sseWriter) event(typ string, v any) error {
	var buf bytes.Buffer
	if typ != "" {
		buf.WriteString("event: " + typ + "\n")
	}
	buf.WriteString("data: ")
	switch d := v.(type) {
	case string:
		buf.WriteString(d)
	default:
		b, _ := json.Marshal(d)
		buf.Write(b)
	}
	buf.WriteString("\n\n")
	if _, err := s.w.Write(buf.Bytes()); err != nil {
		return err
	}
	return s.rc.Flush()
}

// cut ends the response abruptly: the connection is closed without the
// rest of the stream.
func cut() { panic(http.ErrAbortHandler) }

func pause(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, b Behaviour, model, reply string, usage bool) {
	sw := startSSE(w)
	base := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"system_fingerprint": "fp_fake",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}}
	}
	if sw.event("", base(map[string]any{"role": "assistant", "content": ""}, nil)) != nil {
		return
	}
	for i, c := range chunks(b, reply) {
		if b.CutAfter > 0 && i == b.CutAfter {
			cut()
		}
		if !pause(r, b.ChunkDelay) {
			return
		}
		delta := map[string]any{"content": c}
		if b.ToolCall {
			delta = map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": c}}}}
		}
		if sw.event("", base(delta, nil)) != nil {
			return
		}
	}
	if sw.event("", base(map[string]any{}, "stop")) != nil {
		return
	}
	if usage {
		u := map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []any{}, "usage": map[string]any{"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}}
		if sw.event("", u) != nil {
			return
		}
	}
	_ = sw.event("", "[DONE]")
}

func (s *Server) streamCompletions(w http.ResponseWriter, r *http.Request, b Behaviour, model, reply string) {
	sw := startSSE(w)
	for i, c := range chunks(b, reply) {
		if b.CutAfter > 0 && i == b.CutAfter {
			cut()
		}
		if !pause(r, b.ChunkDelay) {
			return
		}
		ev := map[string]any{"id": "cmpl-fake", "object": "text_completion", "created": 1700000000, "model": model,
			"choices": []any{map[string]any{"index": 0, "text": c, "finish_reason": nil, "logprobs": nil}}}
		if sw.event("", ev) != nil {
			return
		}
	}
	_ = sw.event("", map[string]any{"id": "cmpl-fake", "object": "text_completion", "created": 1700000000, "model": model,
		"choices": []any{map[string]any{"index": 0, "text": "", "finish_reason": "stop", "logprobs": nil}}})
	_ = sw.event("", "[DONE]")
}

func (s *Server) streamResponses(w http.ResponseWriter, r *http.Request, b Behaviour, model, reply string) {
	sw := startSSE(w)
	seq := 0
	ev := func(typ string, fields map[string]any) bool {
		fields["type"] = typ
		fields["sequence_number"] = seq
		seq++
		return sw.event(typ, fields) == nil
	}
	inProgress := responseObject(model, "", "in_progress")
	inProgress["output"] = []any{}
	if !ev("response.created", map[string]any{"response": inProgress}) {
		return
	}
	item := map[string]any{"type": "message", "id": "msg_fake", "status": "in_progress", "role": "assistant", "content": []any{}}
	if !ev("response.output_item.added", map[string]any{"output_index": 0, "item": item}) {
		return
	}
	if !ev("response.content_part.added", map[string]any{"item_id": "msg_fake", "output_index": 0, "content_index": 0,
		"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}}) {
		return
	}
	for i, c := range chunks(b, reply) {
		if b.CutAfter > 0 && i == b.CutAfter {
			cut()
		}
		if !pause(r, b.ChunkDelay) {
			return
		}
		if !ev("response.output_text.delta", map[string]any{"item_id": "msg_fake", "output_index": 0, "content_index": 0, "delta": c}) {
			return
		}
	}
	if !ev("response.output_text.done", map[string]any{"item_id": "msg_fake", "output_index": 0, "content_index": 0, "text": reply}) {
		return
	}
	part := map[string]any{"type": "output_text", "text": reply, "annotations": []any{}}
	if !ev("response.content_part.done", map[string]any{"item_id": "msg_fake", "output_index": 0, "content_index": 0, "part": part}) {
		return
	}
	done := map[string]any{"type": "message", "id": "msg_fake", "status": "completed", "role": "assistant", "content": []any{part}}
	if !ev("response.output_item.done", map[string]any{"output_index": 0, "item": done}) {
		return
	}
	_ = ev("response.completed", map[string]any{"response": responseObject(model, reply, "completed")})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Request-Id", "upstream-req-1")
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg, code string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": code}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
