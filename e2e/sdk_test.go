package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/fakeupstream"
	"github.com/rampartsec/rampart/internal/testenv"
)

// nodeScript returns the node executable and the path of script in
// e2e/node, or skips (fails, under scripts/test) when Node.js or the
// packages of e2e/node are missing.
func nodeScript(t *testing.T, script string) (node, path string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv(testenv.EnvRequireNode) == "1" {
			t.Fatalf("%s is not available and %s=1: run the tests through ./scripts/test", what, testenv.EnvRequireNode)
		}
		testenv.Missing(t, what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("Node.js (node)")
	}
	dir := filepath.Join(moduleRoot, "e2e", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		missing("the openai npm package (npm ci in e2e/node)")
	}
	return node, filepath.Join(dir, script)
}

// pinnedSDK is the version of the openai npm package in e2e/node's
// package.json and package-lock.json.
const pinnedSDK = "6.49.0"

// sdkResult is what e2e/node/sdk.mjs prints.
type sdkResult struct {
	SDKVersion string `json:"sdkVersion"`
	Chat       struct {
		Error        string `json:"error"`
		Content      string `json:"content"`
		FinishReason string `json:"finishReason"`
		Usage        *struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
		RequestID string `json:"requestID"`
	} `json:"chat"`
	Stream struct {
		Error        string   `json:"error"`
		Deltas       []string `json:"deltas"`
		Content      string   `json:"content"`
		FinishReason string   `json:"finishReason"`
		Usage        *struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
		RequestID string `json:"requestID"`
	} `json:"stream"`
	Embeddings struct {
		Error string    `json:"error"`
		Count int       `json:"count"`
		First []float64 `json:"first"`
	} `json:"embeddings"`
	EmbeddingsDefault struct {
		Error string    `json:"error"`
		Count int       `json:"count"`
		First []float64 `json:"first"`
	} `json:"embeddingsDefault"`
	Models struct {
		Error string   `json:"error"`
		IDs   []string `json:"ids"`
	} `json:"models"`
	Blocked       sdkError `json:"blocked"`
	BlockedStream sdkError `json:"blockedStream"`
	BadKey        sdkError `json:"badKey"`
}

// sdkError is an error the SDK threw, as sdk.mjs describes it.
type sdkError struct {
	Error             string `json:"error"`
	UnexpectedSuccess any    `json:"unexpectedSuccess"`
	IsAPIError        bool   `json:"isAPIError"`
	ClassName         string `json:"className"`
	Status            int    `json:"status"`
	Message           string `json:"message"`
	Code              string `json:"code"`
	Type              string `json:"type"`
	RequestID         string `json:"requestID"`
	Detector          string `json:"detector"`
}

// TestOpenAISDKAndNoSecrets drives a gateway on the embedded default
// configuration (with secrets in prompts blocked instead of flagged) with
// the official OpenAI SDK for Node.js, then checks that neither the
// upstream credential nor the client's key appears in anything the
// gateway wrote or answered: its log, its audit log, its metrics, and
// every response, upstream errors that quote the credential included.
func TestOpenAISDKAndNoSecrets(t *testing.T) {
	t.Parallel()
	node, script := nodeScript(t, "sdk.mjs")
	up := newUpstream(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")

	// The default input policy only flags secrets; block them instead.
	def := mustRampart(t, nil, "config", "default").Stdout
	const flagRule = "{detector: secrets, action: flag}"
	if strings.Count(def, flagRule) != 1 {
		t.Fatalf("the default configuration no longer has exactly one %q rule; update this test", flagRule)
	}
	cfgPath := writeFile(t, dir, "rampart.yaml", strings.Replace(def, flagRule, "{detector: secrets, action: block}", 1))
	env := []string{"OPENAI_BASE_URL=" + up.URL, "OPENAI_API_KEY=" + up.Key}
	store := []string{"--config", cfgPath, "--data-dir", dataDir}
	mustRampart(t, env, "config", "check", cfgPath)
	key, keyID := createKey(t, env, store, "--name", "sdk")
	gw := startGateway(t, env, store...)

	var bodies []string // every answer a client saw
	blockedPrompt := "Deploy with my AWS key " + awsKey + " please."

	t.Run("sdk", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, script)
		cmd.Dir = filepath.Dir(script)
		cmd.Env = append(baseEnv(), "RAMPART_BASE_URL="+gw.URL+"/v1", "RAMPART_API_KEY="+key,
			"RAMPART_BLOCKED_PROMPT="+blockedPrompt)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("node sdk.mjs: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
		bodies = append(bodies, stdout.String(), stderr.String())
		var r sdkResult
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("sdk.mjs printed no JSON (%v):\n%s\nstderr: %s", err, stdout.String(), stderr.String())
		}
		if r.SDKVersion != pinnedSDK {
			t.Errorf("sdk.mjs ran openai %q, want the pinned %s (npm ci in e2e/node)", r.SDKVersion, pinnedSDK)
		}
		const reply = "Hello from the fake upstream."

		if r.Chat.Error != "" {
			t.Errorf("chat: %s", r.Chat.Error)
		} else if r.Chat.Content != reply || r.Chat.FinishReason != "stop" || r.Chat.Usage == nil ||
			r.Chat.Usage.TotalTokens != 21 || !strings.HasPrefix(r.Chat.RequestID, "req_") {
			t.Errorf("chat: got %+v", r.Chat)
		}

		if r.Stream.Error != "" {
			t.Errorf("stream: %s", r.Stream.Error)
		} else if r.Stream.Content != reply || len(r.Stream.Deltas) < 2 || r.Stream.FinishReason != "stop" ||
			r.Stream.Usage == nil || !strings.HasPrefix(r.Stream.RequestID, "req_") {
			t.Errorf("stream: got %+v", r.Stream)
		}

		if r.Embeddings.Error != "" {
			t.Errorf("embeddings: %s", r.Embeddings.Error)
		} else if r.Embeddings.Count != 2 || !slices.Equal(r.Embeddings.First, []float64{0.1, -0.2, 0.3}) {
			t.Errorf("embeddings: got %+v", r.Embeddings)
		}

		if e := r.EmbeddingsDefault; e.Error != "" {
			t.Errorf("embeddings as base64 (the SDK's default): %s", e.Error)
		} else if e.Count != 1 || !float32sEqual(e.First, fakeEmbedding) {
			t.Errorf("embeddings as base64 (the SDK's default): got %+v, want %v", e, fakeEmbedding)
		}

		if r.Models.Error != "" {
			t.Errorf("models: %s", r.Models.Error)
		} else if !slices.Contains(r.Models.IDs, "gpt-4o") {
			t.Errorf("models: got %v", r.Models.IDs)
		}

		for name, e := range map[string]sdkError{"blocked": r.Blocked, "blocked stream": r.BlockedStream} {
			if e.Error != "" || e.UnexpectedSuccess != nil {
				t.Errorf("%s: the SDK did not throw: %+v", name, e)
				continue
			}
			if !e.IsAPIError || e.ClassName != "BadRequestError" || e.Status != 400 {
				t.Errorf("%s: want an APIError (BadRequestError) with status 400, got %+v", name, e)
			}
			if e.Detector != "secrets" || !strings.Contains(e.Message, "secrets") {
				t.Errorf("%s: the error does not name the detector: %+v", name, e)
			}
			if !strings.HasPrefix(e.RequestID, "req_") {
				t.Errorf("%s: no request id: %+v", name, e)
			}
		}

		if e := r.BadKey; !e.IsAPIError || e.Status != 401 || e.ClassName != "AuthenticationError" {
			t.Errorf("bad key: want an AuthenticationError with status 401, got %+v", e)
		}

		// What the upstream received: its own credential, never the
		// client's key, and no blocked prompt.
		reqs := up.Requests()
		if len(reqs) < 4 {
			t.Errorf("the upstream received %d requests, want at least 4", len(reqs))
		}
		for _, rq := range reqs {
			if got := rq.Header.Get("Authorization"); got != "Bearer "+up.Key {
				t.Errorf("%s reached the upstream with the wrong credential", rq.Path)
			}
			if bytes.Contains(rq.Body, []byte(awsKey)) {
				t.Errorf("a blocked prompt reached the upstream (%s)", rq.Path)
			}
			for _, s := range []string{key, keySecretPart(key)} {
				if bytes.Contains(rq.Body, []byte(s)) || strings.Contains(headerText(rq.Header), s) {
					t.Errorf("the client's key reached the upstream (%s)", rq.Path)
				}
			}
		}
	})

	t.Run("upstream errors quoting the credential", func(t *testing.T) {
		tests := []struct {
			name   string
			b      fakeupstream.Behaviour
			stream bool
		}{
			{"401 json", fakeupstream.Behaviour{Status: 401, ErrorBody: `{"error":{"message":"Incorrect API key provided: ` +
				up.Key + `.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`}, false},
			{"401 json stream", fakeupstream.Behaviour{Status: 401, ErrorBody: `{"error":{"message":"Incorrect API key provided: ` +
				up.Key + `.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`}, true},
			{"429 json", fakeupstream.Behaviour{Status: 429, ErrorBody: `{"error":{"message":"Rate limit reached for key ` +
				up.Key + `","type":"requests","code":"rate_limit_exceeded"}}`}, false},
			{"500 text", fakeupstream.Behaviour{Status: 500, ErrorBody: "internal error; key=" + up.Key}, false},
			{"400 bad json", fakeupstream.Behaviour{Status: 400, ErrorBody: `{"error": "bad key ` + up.Key}, true},
		}
		for _, tt := range tests {
			up.Set(tt.b)
			r := mustSend(t, "POST", gw.URL+"/v1/chat/completions", key, chatBody("hello", tt.stream))
			bodies = append(bodies, string(r.Body), headerText(r.Header))
			if r.Status < 400 {
				t.Errorf("%s: status %d: %s", tt.name, r.Status, r.Body)
			}
			var ae apiError
			if err := json.Unmarshal(r.Body, &ae); err != nil || ae.Error.Message == "" {
				t.Errorf("%s: not an OpenAI error: %s", tt.name, r.Body)
			}
		}
		up.Set(fakeupstream.Behaviour{})
		// Wrong and malformed client keys, which the log must not echo.
		// The last character replaced by one it is not (a random key
		// ends with "Z" now and then, and would then be the key itself).
		last := "Z"
		if strings.HasSuffix(key, last) {
			last = "Y"
		}
		for _, k := range []string{key + "x", key[:len(key)-1] + last, "sk-" + keySecretPart(key)} {
			r := mustSend(t, "POST", gw.URL+"/v1/chat/completions", k, chatBody("hello", false))
			bodies = append(bodies, string(r.Body))
			if r.Status != 401 {
				t.Errorf("a wrong key got %d: %s", r.Status, r.Body)
			}
		}
	})

	t.Run("data dir", func(t *testing.T) {
		// --data-dir overrides the configuration's data_dir, for the
		// SQLite store too.
		if _, err := os.Stat(filepath.Join(dataDir, "rampart.db")); err != nil {
			t.Errorf("rampart serve --data-dir %s: no SQLite store there: %v", dataDir, err)
		}
	})

	t.Run("no secret anywhere", func(t *testing.T) {
		metrics := mustSend(t, "GET", gw.URL+"/metrics", "", "")
		if metrics.Status != 200 || !strings.Contains(string(metrics.Body), "rampart_") {
			t.Fatalf("/metrics: %d\n%s", metrics.Status, metrics.Body)
		}
		auditOut, recs := auditTail(t, env, store)
		if len(recs) < 8 {
			t.Errorf("the audit log has %d records, want one per request", len(recs))
		}
		var blocked int
		for _, r := range recs {
			if r.Decision == "block" && r.Status == 400 && r.KeyID == keyID {
				blocked++
			}
		}
		if blocked < 2 {
			t.Errorf("the audit log has %d blocked requests of key %s, want 2", blocked, keyID)
		}
		haystacks := map[string]string{
			"gateway log":    gw.stderr.String(),
			"audit log":      auditOut,
			"metrics":        string(metrics.Body),
			"client answers": strings.Join(bodies, "\n"),
		}
		needles := map[string]string{
			"the upstream key":                up.Key,
			"the upstream key's secret part":  up.Secret,
			"the client's key":                key,
			"the client's key's secret part":  keySecretPart(key),
			"the AWS key of a blocked prompt": awsKey,
		}
		for where, text := range haystacks {
			for what, needle := range needles {
				if strings.Contains(text, needle) {
					t.Errorf("%s appears in the %s", what, where)
				}
			}
		}
	})
}

// float32sEqual reports whether got, decoded from float32s, is want.
func float32sEqual(got []float64, want []float32) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if float32(got[i]) != want[i] {
			return false
		}
	}
	return true
}

// headerText renders headers as text, to search them.
func headerText(h map[string][]string) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}
