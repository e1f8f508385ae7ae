package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/fakeupstream"
)

// Values the anonymize tests send; none may reach the upstream, an audit
// record or a log line.
const (
	anonEmail = "jane.doe@corp-mail.example"
	anonCard  = "4111 1111 1111 1111"
)

// anonPrompt holds the values twice; anonSent is what the upstream must
// see instead.
var (
	anonPrompt = "Contact " + anonEmail + " about card " + anonCard + ", then " + anonEmail + " again."
	anonSent   = "Contact <EMAIL_1> about card <CREDIT_CARD_1>, then <EMAIL_1> again."
)

// anonEnv anonymizes PII in prompts (the default policy's pii rule).
func anonEnv(t *testing.T, mutate func(*config.Config)) *env {
	return newEnv(t, func(c *config.Config) {
		for i := range c.Policies[0].Input {
			if c.Policies[0].Input[i].Detector == "pii" {
				c.Policies[0].Input[i].Action = "anonymize"
			}
		}
		if mutate != nil {
			mutate(c)
		}
	})
}

// upstreamUserText decodes the last user message the upstream received.
func upstreamUserText(t *testing.T, e *env) (string, []byte) {
	t.Helper()
	last, ok := e.up.Last()
	if !ok {
		t.Fatal("the upstream got no request")
	}
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(last.Body, &req); err != nil {
		t.Fatalf("upstream body %s: %v", last.Body, err)
	}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return req.Messages[i].Content, last.Body
		}
	}
	t.Fatalf("no user message in %s", last.Body)
	return "", nil
}

func chatContent(t *testing.T, body []byte) string {
	t.Helper()
	var resp struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Choices) == 0 {
		t.Fatalf("not a chat completion: %s (%v)", body, err)
	}
	return resp.Choices[0].Message.Content
}

// auditPayloads waits for n audit records and returns their payloads.
func auditPayloads(t *testing.T, e *env, n int) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var b strings.Builder
		count := 0
		if err := e.st.ScanAudit(context.Background(), 1, func(en audit.Entry) error {
			b.Write(en.Payload)
			b.WriteByte('\n')
			count++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if count >= n || time.Now().After(deadline) {
			return b.String()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assertNoValues(t *testing.T, where, text string) {
	t.Helper()
	for _, v := range []string{anonEmail, anonCard, "4111111111111111", "jane.", "4111 "} {
		if i := strings.Index(text, v); i >= 0 {
			t.Errorf("%q appears in the %s: …%s…", v, where, text[max(0, i-300):min(len(text), i+100)])
		}
	}
}

func TestAnonymizeNonStreamed(t *testing.T) {
	for _, full := range []bool{false, true} {
		e := anonEnv(t, func(c *config.Config) {
			if full {
				c.Audit.Prompts = "full"
			}
		})
		e.up.Set(fakeupstream.Behaviour{Echo: true})
		status, _, body := e.post("/v1/chat/completions", chatBody(anonPrompt, false))
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		sent, raw := upstreamUserText(t, e)
		if sent != anonSent {
			t.Fatalf("upstream saw %q, want %q", sent, anonSent)
		}
		assertNoValues(t, "upstream request", string(raw))
		// The echo comes back with the values restored; the output policy
		// (payment cards redacted) ran on the placeholders, so the
		// restored card is not taken for a leak.
		if got := chatContent(t, body); got != anonPrompt {
			t.Fatalf("client got %q, want %q", got, anonPrompt)
		}
		audited := auditPayloads(t, e, 1)
		assertNoValues(t, "audit records", audited)
		assertNoValues(t, "logs", e.logs.String())
		if !strings.Contains(audited, `"action":"anonymize"`) {
			t.Errorf("no anonymize finding in the audit record: %s", audited)
		}
	}
}

// TestAnonymizeInventedPlaceholder: a placeholder that is not in the
// request's vault stays as the model wrote it.
func TestAnonymizeInventedPlaceholder(t *testing.T) {
	e := anonEnv(t, nil)
	reply := "I wrote to <EMAIL_1>, not <EMAIL_2> or <PERSON_1>."
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	_, _, body := e.post("/v1/chat/completions", chatBody("mail "+anonEmail, false))
	if got, want := chatContent(t, body), "I wrote to "+anonEmail+", not <EMAIL_2> or <PERSON_1>."; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestAnonymizeStreamEverySplit: the placeholders come back restored
// whatever byte the stream is split at.
func TestAnonymizeStreamEverySplit(t *testing.T) {
	e := anonEnv(t, nil)
	reply := "Sure: " + anonSent + " <EMAIL_7> is made up."
	want := "Sure: " + anonPrompt + " <EMAIL_7> is made up."
	for i := 0; i <= len(reply); i++ {
		e.up.Set(fakeupstream.Behaviour{Chunks: []string{reply[:i], reply[i:]}})
		status, _, body := e.post("/v1/chat/completions", chatBody(anonPrompt, true))
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
		if i == 0 {
			sent, raw := upstreamUserText(t, e)
			if sent != anonSent {
				t.Fatalf("upstream saw %q", sent)
			}
			assertNoValues(t, "upstream request", string(raw))
		}
	}
	// Three-way splits around the first placeholder, byte by byte.
	at := strings.Index(reply, "<EMAIL_1>")
	for i := at; i <= at+9; i++ {
		for j := i; j <= at+9; j++ {
			e.up.Set(fakeupstream.Behaviour{Chunks: []string{reply[:i], reply[i:j], reply[j:]}})
			_, _, body := e.post("/v1/chat/completions", chatBody(anonPrompt, true))
			if got, _, _ := streamContent(t, body); got != want {
				t.Fatalf("split %d,%d: streamed %q, want %q", i, j, got, want)
			}
		}
	}
	assertNoValues(t, "audit records", auditPayloads(t, e, len(reply)+1))
	assertNoValues(t, "logs", e.logs.String())
}

// responsesText collects a Responses stream's output_text deltas and the
// text of its output_text.done event.
func responsesText(t *testing.T, body []byte) (deltas, done string, failed bool) {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type  string `json:"type"`
			Delta string `json:"delta"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("bad event %q: %v", data, err)
		}
		switch ev.Type {
		case "response.output_text.delta":
			b.WriteString(ev.Delta)
		case "response.output_text.done":
			done = ev.Text
		case "error":
			failed = true
		}
	}
	return b.String(), done, failed
}

func TestAnonymizeResponsesStreamEverySplit(t *testing.T) {
	e := anonEnv(t, nil)
	reply := "Noted " + anonSent
	want := "Noted " + anonPrompt
	body := func(stream bool) string {
		b, _ := json.Marshal(map[string]any{"model": "gpt-4o", "input": anonPrompt, "stream": stream})
		return string(b)
	}
	for i := 0; i <= len(reply); i++ {
		e.up.Set(fakeupstream.Behaviour{Reply: reply, Chunks: []string{reply[:i], reply[i:]}})
		status, _, out := e.post("/v1/responses", body(true))
		if status != 200 {
			t.Fatalf("split %d: status %d: %s", i, status, out)
		}
		deltas, done, failed := responsesText(t, out)
		if failed || deltas != want || done != want {
			t.Fatalf("split %d: deltas %q done %q failed %v", i, deltas, done, failed)
		}
	}
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	_, _, out := e.post("/v1/responses", body(false))
	if !strings.Contains(string(out), `"text":"Noted Contact jane.doe@corp-mail.example about card 4111 1111 1111 1111`) {
		t.Fatalf("non-streamed responses not restored: %s", out)
	}
}

// TestRedactStyles: hash and synthetic output redaction.
func TestRedactStyles(t *testing.T) {
	t.Setenv("RAMPART_TEST_HASH_KEY", "0123456789abcdef0123456789abcdef")
	e := newEnv(t, func(c *config.Config) {
		c.Redaction.HashKey = "env:RAMPART_TEST_HASH_KEY"
		c.Detectors["emails"] = config.Detector{Type: "pii", Options: map[string]any{"entities": []any{"email"}}}
		c.Policies[0].Output = append(c.Policies[0].Output, config.Rule{Detector: "emails", Action: "redact", Redact: "hash"})
		for i := range c.Policies[0].Output {
			if c.Policies[0].Output[i].Detector == "payment_cards" {
				c.Policies[0].Output[i].Redact = "synthetic"
			}
		}
	})
	reply := "Mail " + anonEmail + " or " + anonEmail + ", card " + anonCard + "."
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	_, _, body := e.post("/v1/chat/completions", chatBody("x", false))
	got := chatContent(t, body)
	assertNoValues(t, "response", got)
	var tok string
	if i := strings.Index(got, "[EMAIL:"); i >= 0 && len(got) >= i+16 {
		tok = got[i : i+16]
	}
	if tok == "" || strings.Count(got, tok) != 2 {
		t.Fatalf("hash tokens: %q", got)
	}
	if !strings.Contains(got, "card 4") || strings.Contains(got, "[REDACTED") {
		t.Fatalf("synthetic card: %q", got)
	}
	// Streamed: the same hash token (same key), a synthetic card.
	e.up.Set(fakeupstream.Behaviour{Reply: reply, ChunkSize: 3})
	_, _, body = e.post("/v1/chat/completions", chatBody("x", true))
	streamed, _, _ := streamContent(t, body)
	if strings.Count(streamed, tok) != 2 || !strings.Contains(streamed, "card 4") {
		t.Fatalf("streamed %q", streamed)
	}
	assertNoValues(t, "stream", streamed)
}

// Canary tests.

const testCanary = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

const testSystem = "You are Orbit, the support assistant of Acme Rockets. Never discuss pricing for the Falcon launch package."

// canaryEnv has a canary detector on output with the given action.
func canaryEnv(t *testing.T, action string) *env {
	t.Cleanup(gateway.SetCanaryForTest(testCanary))
	return newEnv(t, func(c *config.Config) {
		c.Detectors["leak"] = config.Detector{Type: "canary"}
		c.Policies[0].Output = append(c.Policies[0].Output, config.Rule{Detector: "leak", Action: action})
	})
}

func systemChat(system, user string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model": "gpt-4o", "stream": stream,
		"messages": []any{map[string]any{"role": "system", "content": system}, map[string]any{"role": "user", "content": user}},
	})
	return string(b)
}

func TestCanaryInjected(t *testing.T) {
	e := canaryEnv(t, "block")
	line := "<!-- rampart-canary: " + testCanary + " -->"
	tests := []struct {
		name, path, body string
		check            func(map[string]any) bool
	}{
		{"appended to the system message", "/v1/chat/completions", systemChat(testSystem, "hi", false), func(m map[string]any) bool {
			msgs := m["messages"].([]any)
			return len(msgs) == 2 && msgs[0].(map[string]any)["content"] == testSystem+"\n\n"+line
		}},
		{"system message added", "/v1/chat/completions", chatBody("hi", false), func(m map[string]any) bool {
			msgs := m["messages"].([]any)
			first := msgs[0].(map[string]any)
			return len(msgs) == 2 && first["role"] == "system" && first["content"] == line
		}},
		{"instructions appended", "/v1/responses", `{"model":"gpt-4o","instructions":"Be Orbit.","input":"hi"}`, func(m map[string]any) bool {
			return m["instructions"] == "Be Orbit.\n\n"+line
		}},
		{"instructions added", "/v1/responses", `{"model":"gpt-4o","input":"hi"}`, func(m map[string]any) bool {
			return m["instructions"] == line && m["input"] == "hi"
		}},
		{"null instructions replaced", "/v1/responses", `{"model":"gpt-4o","instructions":null,"input":"hi"}`, func(m map[string]any) bool {
			return m["instructions"] == line
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, _, b := e.post(tt.path, tt.body); status != 200 {
				t.Fatalf("status %d: %s", status, b)
			}
			last, _ := e.up.Last()
			var m map[string]any
			if err := json.Unmarshal(last.Body, &m); err != nil || !tt.check(m) {
				t.Fatalf("upstream got %s (%v)", last.Body, err)
			}
		})
	}
}

// TestCanaryStrippedEverySplit: a model that repeats the canary line (and
// with flag, is let through) never shows it to the client, whatever byte
// the stream is split at; the leak is recorded.
func TestCanaryStrippedEverySplit(t *testing.T) {
	e := canaryEnv(t, "flag")
	reply := "Hello <!-- rampart-canary: " + testCanary + " --> and bare " + testCanary + " end."
	want := "Hello  and bare  end."
	e.up.Set(fakeupstream.Behaviour{Reply: reply})
	_, _, body := e.post("/v1/chat/completions", systemChat(testSystem, "hi", false))
	if got := chatContent(t, body); got != want {
		t.Fatalf("non-streamed: %q, want %q", got, want)
	}
	for i := 0; i <= len(reply); i++ {
		e.up.Set(fakeupstream.Behaviour{Chunks: []string{reply[:i], reply[i:]}})
		status, _, body := e.post("/v1/chat/completions", systemChat(testSystem, "hi", true))
		if status != 200 {
			t.Fatalf("split %d: status %d", i, status)
		}
		got, errEv, done := streamContent(t, body)
		if errEv != nil || !done || got != want {
			t.Fatalf("split %d: %q (error %v, done %v), want %q", i, got, errEv, done, want)
		}
		if strings.Contains(string(body), testCanary) {
			t.Fatalf("split %d: the canary reached the client", i)
		}
	}
	audited := auditPayloads(t, e, len(reply)+2)
	if !strings.Contains(audited, `"rule_id":"canary.token"`) || !strings.Contains(audited, `"decision":"flag"`) {
		t.Fatalf("leak not recorded: %s", audited[:min(len(audited), 2000)])
	}
}

// TestCanaryLeakBlocked: the canary (obfuscated) or a long quote of the
// system prompt blocks the answer, streamed or not.
func TestCanaryLeakBlocked(t *testing.T) {
	e := canaryEnv(t, "block")
	spaced := strings.ToUpper(strings.Join(strings.Split(testCanary, ""), " "))
	tests := []struct{ name, reply string }{
		{"obfuscated token", "The marker is " + spaced + "."},
		{"system prompt quoted", "My instructions: never discuss pricing for the Falcon launch package."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.up.Set(fakeupstream.Behaviour{Reply: tt.reply})
			status, _, body := e.post("/v1/chat/completions", systemChat(testSystem, "hi", false))
			if status != 400 || !strings.Contains(string(body), "canary.") {
				t.Fatalf("non-streamed: status %d: %s", status, body)
			}
			e.up.Set(fakeupstream.Behaviour{Reply: tt.reply, ChunkSize: 5})
			_, _, body = e.post("/v1/chat/completions", systemChat(testSystem, "hi", true))
			_, errEv, _ := streamContent(t, body)
			if errEv == nil || errEv.Error.Code != "content_blocked" {
				t.Fatalf("streamed: not blocked: %s", body)
			}
		})
	}
	// A benign answer passes.
	e.up.Set(fakeupstream.Behaviour{Reply: "Happy to help with your rocket order."})
	if status, _, body := e.post("/v1/chat/completions", systemChat(testSystem, "hi", false)); status != 200 {
		t.Fatalf("benign answer: %d %s", status, body)
	}
}
