package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/fakeupstream"
)

// Environment variables the gateway processes of these tests read.
const (
	envUpstreamKey = "RAMPART_E2E_UPSTREAM_KEY"
	envPostgresDSN = "RAMPART_E2E_POSTGRES_DSN"
)

// awsKey is a secret the secrets detector finds in prompts: an AWS access
// key id, split so that this file does not look like it holds one.
var awsKey = "AKIA" + "QYLPMN5HFIQR7XYZ"

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// upstream is a fake OpenAI-compatible provider on a real HTTP server,
// requiring its own credential.
type upstream struct {
	*fakeupstream.Server
	URL    string // base URL including /v1
	Key    string // the credential it requires
	Secret string // the random part of Key
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	secret := randomHex(20)
	key := "sk-e2e-upstream-" + secret
	fake := fakeupstream.New(key, true)
	srv := httptest.NewServer(base64Embeddings(key, fake))
	t.Cleanup(srv.Close)
	return &upstream{Server: fake, URL: srv.URL + "/v1", Key: key, Secret: secret}
}

// fakeEmbedding is the vector every fake embedding has.
var fakeEmbedding = []float32{0.1, -0.2, 0.3}

// base64Embeddings answers embeddings requests that ask for
// encoding_format "base64" — what the official SDKs ask for by default —
// as OpenAI does (little-endian float32 vectors in base64), which the fake
// does not; everything else goes to next.
func base64Embeddings(key string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req struct {
			Model          string `json:"model"`
			Input          any    `json:"input"`
			EncodingFormat string `json:"encoding_format"`
		}
		if json.Unmarshal(body, &req) != nil || req.EncodingFormat != "base64" || r.Header.Get("Authorization") != "Bearer "+key {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
			return
		}
		n := 1
		if in, ok := req.Input.([]any); ok {
			n = len(in)
		}
		vec := make([]byte, 4*len(fakeEmbedding))
		for i, f := range fakeEmbedding {
			binary.LittleEndian.PutUint32(vec[4*i:], math.Float32bits(f))
		}
		data := make([]any, n)
		for i := range data {
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": base64.StdEncoding.EncodeToString(vec)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]any{"prompt_tokens": 4, "total_tokens": 4}})
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
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

// baseEnv is the process environment without variables that would change
// what the gateway or the CLI does behind the tests' back.
func baseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENAI_") || strings.HasPrefix(kv, "RAMPART_E2E_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// cliResult is the outcome of one CLI command.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// rampart runs the CLI with env added to the environment and returns its
// output and exit code; it fails the test if the command could not run.
func rampart(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rampartBinary(t), args...)
	cmd.Env = baseEnv(env...)
	cmd.Dir = workDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("rampart %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	checkRace(t, "rampart "+args[0], res.Stderr)
	return res
}

// mustRampart is rampart that fails the test on a non-zero exit.
func mustRampart(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	res := rampart(t, env, args...)
	if res.Code != 0 {
		t.Fatalf("rampart %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	return res
}

var createdRE = regexp.MustCompile(`Created key (\S+) `)

// createKey creates a key with the CLI; store selects the store
// (--config FILE and/or --data-dir DIR). It returns the key and its id.
func createKey(t *testing.T, env []string, store []string, args ...string) (key, id string) {
	t.Helper()
	res := mustRampart(t, env, append(append([]string{"keys", "create"}, store...), args...)...)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	key = strings.TrimSpace(lines[len(lines)-1])
	m := createdRE.FindStringSubmatch(res.Stdout)
	if m == nil || !strings.HasPrefix(key, "rk_") {
		t.Fatalf("keys create printed no key and id:\n%s", res.Stdout)
	}
	return key, m[1]
}

// keySecretPart is the part of a Rampart key after its public prefix.
func keySecretPart(key string) string {
	if i := strings.LastIndexByte(key, '_'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// checkRace fails the test when a race-enabled binary reported a race.
func checkRace(t *testing.T, what, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "WARNING: DATA RACE") {
		t.Errorf("%s reported a data race:\n%s", what, stderr)
	}
}

// gateway is a running `rampart serve` process.
type gateway struct {
	t      *testing.T
	args   []string
	env    []string
	cmd    *exec.Cmd
	URL    string // http://127.0.0.1:PORT
	stderr *syncBuffer
	exited chan struct{}
	err    error // Wait's error, after exited is closed
}

// startGateway runs `rampart serve ARGS --listen 127.0.0.1:0` and waits
// until it is ready. It is stopped (SIGTERM) when the test ends, and a
// data race it reports fails the test.
func startGateway(t *testing.T, env []string, args ...string) *gateway {
	t.Helper()
	g := &gateway{t: t, args: args, env: env}
	g.start()
	return g
}

func (g *gateway) start() {
	t := g.t
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0"}, g.args...)
	cmd := exec.Command(rampartBinary(t), args...)
	cmd.Env = baseEnv(g.env...)
	cmd.Dir = workDir
	out := &syncBuffer{}
	if g.stderr != nil {
		// A restart keeps the earlier output.
		out = g.stderr
		fmt.Fprintf(out, "--- restart ---\n")
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rampart serve: %v", err)
	}
	g.cmd, g.stderr, g.exited = cmd, out, make(chan struct{})
	addrc := make(chan string, 1)
	go func() {
		// Read the JSON log to its end, noting the API listener's
		// address, then reap the process.
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Bytes()
			out.Write(line)
			out.Write([]byte{'\n'})
			var ev struct {
				Msg, Addr, Role string
			}
			if json.Unmarshal(line, &ev) == nil && ev.Msg == "listening" && ev.Role == "api" {
				select {
				case addrc <- ev.Addr:
				default:
				}
			}
		}
		_, _ = io.Copy(out, pipe)
		g.err = cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		g.stop()
		checkRace(t, "rampart serve", g.stderr.String())
	})
	select {
	case addr := <-addrc:
		g.URL = "http://" + addr
	case <-g.exited:
		t.Fatalf("rampart serve exited before listening: %v\n%s", g.err, g.stderr)
	case <-time.After(90 * time.Second):
		t.Fatalf("rampart serve not listening after 90s:\n%s", g.stderr)
	}
	// Listening comes before the first request is served; /readyz also
	// asks the store.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := httpClient.Get(g.URL + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("rampart serve not ready after 30s (%v):\n%s", err, g.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running reports whether the process is still there.
func (g *gateway) running() bool {
	select {
	case <-g.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (g *gateway) signal(sig syscall.Signal) {
	g.t.Helper()
	if err := g.cmd.Process.Signal(sig); err != nil && g.running() {
		g.t.Fatalf("signal %v: %v", sig, err)
	}
}

// stop ends the process gracefully (SIGTERM), killing it after 45s. It
// returns Wait's error.
func (g *gateway) stop() error {
	if !g.running() {
		return g.err
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(45 * time.Second):
		g.t.Errorf("rampart serve did not stop within 45s of SIGTERM; killing it")
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
	return g.err
}

// kill ends the process with SIGKILL and waits for it.
func (g *gateway) kill() {
	_ = g.cmd.Process.Kill()
	<-g.exited
}

// restart starts the process again with the same arguments.
func (g *gateway) restart() {
	g.t.Helper()
	if g.running() {
		g.t.Fatal("restart of a running gateway")
	}
	g.start()
}

// waitLog waits until the process log has a line containing want; a line
// containing bad first fails the test.
func (g *gateway) waitLog(want, bad string, timeout time.Duration) {
	g.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := g.stderr.String()
		if bad != "" && strings.Contains(s, bad) {
			g.t.Fatalf("gateway log has %q:\n%s", bad, s)
		}
		if strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) || !g.running() {
			g.t.Fatalf("gateway log has no %q after %v:\n%s", want, timeout, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpClient is shared by the tests; every request has a deadline.
var httpClient = &http.Client{
	Timeout: 60 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	},
}

// response is a whole HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// send makes one request with key (empty: none) and reads the whole
// answer.
func send(ctx context.Context, method, url, key, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("read body: %w", err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// mustSend is send that fails the test on a transport error.
func mustSend(t *testing.T, method, url, key, body string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := send(ctx, method, url, key, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// chatBody is a chat completion request with one user message.
func chatBody(content string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model":    "gpt-4o",
		"stream":   stream,
		"messages": []any{map[string]any{"role": "user", "content": content}},
	})
	return string(b)
}

// apiError is OpenAI's error shape with Rampart's additions.
type apiError struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      string `json:"code"`
		RequestID string `json:"request_id"`
		Detector  string `json:"detector"`
	} `json:"error"`
}

// chatContent returns the message content of a chat completion.
func chatContent(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v.Choices) == 0 {
		t.Fatalf("not a chat completion: %s", body)
	}
	return v.Choices[0].Message.Content
}

// sseResult is a chat completion stream as a client sees it.
type sseResult struct {
	Content string
	Chunks  int
	Done    bool      // "data: [DONE]" arrived
	Error   *apiError // an error event
}

// parseChatStream reads a chat completion SSE body.
func parseChatStream(body []byte) (sseResult, error) {
	var r sseResult
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			r.Done = true
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
			return r, fmt.Errorf("bad event %q: %w", data, err)
		}
		if ev.Error != nil {
			r.Error = &apiError{}
			_ = json.Unmarshal([]byte(data), r.Error)
			continue
		}
		for _, c := range ev.Choices {
			if c.Delta.Content != nil {
				r.Content += *c.Delta.Content
				r.Chunks++
			}
		}
	}
	return r, sc.Err()
}

// auditRecord is a line of `rampart audit tail --json`.
type auditRecord struct {
	Seq      int64  `json:"seq"`
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Status   int    `json:"status"`
	Decision string `json:"decision"`
	KeyID    string `json:"key_id"`
}

// auditTail returns the raw output of `rampart audit tail --json` and its
// records.
func auditTail(t *testing.T, env, store []string) (string, []auditRecord) {
	t.Helper()
	res := mustRampart(t, env, append([]string{"audit", "tail", "--json", "-n", "1000000"}, store...)...)
	var recs []auditRecord
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if line == "" {
			continue
		}
		var r auditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit tail printed a line that is not JSON: %q", line)
		}
		recs = append(recs, r)
	}
	return res.Stdout, recs
}

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// replaceFile replaces path's content atomically (as an editor or a
// configuration manager would).
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// sqliteConfig is a small configuration over SQLite in dataDir with the
// fake upstream at upstreamURL and the given policy YAML (a list of
// policies, indented for the policies key).
func sqliteConfig(dataDir, upstreamURL, policies string) string {
	return fmt.Sprintf(`# end-to-end test configuration
data_dir: %s
store:
  driver: sqlite
upstreams:
  - name: fake
    base_url: %s
    api_key: env:%s
    models: ["*"]
limits:
  backend: memory
detectors:
  secrets: {type: secrets}
  pii: {type: pii}
policies:
%s
audit:
  prompts: redacted
log:
  level: info
  format: json
`, dataDir, upstreamURL, envUpstreamKey, policies)
}
