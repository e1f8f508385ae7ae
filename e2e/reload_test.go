package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/fakeupstream"
)

// TestSIGHUPReload: SIGHUP swaps in the edited configuration for the next
// request, while a long stream started before the reload completes
// normally under the configuration it started with.
func TestSIGHUPReload(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	// The model's answer holds an e-mail address, which only the new
	// configuration redacts.
	const email = "alice.smith@example.com"
	reply := "Dear customer, please write to " + email + " for the quarterly report. " +
		strings.Repeat("This sentence pads the stream out. ", 4) + "Regards."
	up.Set(fakeupstream.Behaviour{Reply: reply, ChunkSize: 8, ChunkDelay: 120 * time.Millisecond})
	chunks := (len(reply) + 7) / 8

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	before := sqliteConfig(dataDir, up.URL, `  - name: before
    input:
      - {detector: secrets, action: flag}
    output:
      - {detector: secrets, action: redact}`)
	after := sqliteConfig(dataDir, up.URL, `  - name: after
    input:
      - {detector: secrets, action: block}
    output:
      - {detector: secrets, action: redact}
      - {detector: pii, action: redact}`)
	cfgPath := writeFile(t, dir, "rampart.yaml", before)
	env := []string{envUpstreamKey + "=" + up.Key}
	store := []string{"--config", cfgPath}
	key, _ := createKey(t, env, store, "--name", "reload")
	gw := startGateway(t, env, store...)
	url := gw.URL + "/v1/chat/completions"
	secretPrompt := chatBody("my key is "+awsKey, false)

	// Before: secrets in prompts are only flagged, e-mails pass.
	if r := mustSend(t, "POST", url, key, secretPrompt); r.Status != 200 {
		t.Fatalf("before the reload a flagged prompt got %d: %s", r.Status, r.Body)
	}
	if r := mustSend(t, "POST", url, key, chatBody("hello", false)); r.Status != 200 || chatContent(t, r.Body) != reply {
		t.Fatalf("before the reload: %d %s", r.Status, r.Body)
	}

	// A long stream, started before the reload.
	type streamOutcome struct {
		status int
		res    sseResult
		err    error
		took   time.Duration
	}
	firstChunk := make(chan struct{})
	streamDone := make(chan streamOutcome, 1)
	go func() {
		var out streamOutcome
		defer func() { streamDone <- out }()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(chatBody("tell me slowly", true)))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			out.err = err
			close(firstChunk)
			return
		}
		defer resp.Body.Close()
		out.status = resp.StatusCode
		var raw strings.Builder
		br := bufio.NewReader(resp.Body)
		signalled := false
		for {
			line, err := br.ReadString('\n')
			raw.WriteString(line)
			if !signalled && strings.Contains(line, `"content":"`) && !strings.Contains(line, `"content":""`) {
				signalled = true
				close(firstChunk)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				out.err = err
				break
			}
		}
		if !signalled {
			close(firstChunk)
		}
		out.took = time.Since(start)
		out.res, err = parseChatStream([]byte(raw.String()))
		if out.err == nil {
			out.err = err
		}
	}()
	select {
	case <-firstChunk:
	case <-time.After(30 * time.Second):
		t.Fatal("the stream sent no content in 30s")
	}

	replaceFile(t, cfgPath, after)
	gw.signal(syscall.SIGHUP)
	gw.waitLog(`"msg":"configuration reloaded"`, "configuration reload failed", 30*time.Second)

	// After: the next request with a secret is blocked…
	r := mustSend(t, "POST", url, key, secretPrompt)
	var ae apiError
	_ = json.Unmarshal(r.Body, &ae)
	if r.Status != 400 || ae.Error.Detector != "secrets" {
		t.Errorf("after the reload a prompt with a secret got %d (want 400 naming the detector): %s", r.Status, r.Body)
	}
	// …and e-mails in answers are redacted, streamed or not.
	if r := mustSend(t, "POST", url, key, chatBody("hello", false)); r.Status != 200 || strings.Contains(chatContent(t, r.Body), email) {
		t.Errorf("after the reload the e-mail was not redacted: %d %s", r.Status, r.Body)
	}

	out := <-streamDone
	if out.err != nil {
		t.Fatalf("the stream started before the reload failed: %v", out.err)
	}
	t.Logf("the stream took %v over %d chunks", out.took.Round(time.Millisecond), out.res.Chunks)
	if out.status != 200 || !out.res.Done || out.res.Error != nil {
		t.Errorf("the stream started before the reload did not complete normally: status %d done %v error %+v",
			out.status, out.res.Done, out.res.Error)
	}
	// It ran under the old configuration, which does not redact e-mails.
	if out.res.Content != reply {
		t.Errorf("the stream started before the reload streamed\n%q\nwant (the old configuration's answer)\n%q", out.res.Content, reply)
	}
	if want := time.Duration(chunks-1) * 120 * time.Millisecond; out.took < want {
		t.Errorf("the stream took %v, less than its %d chunks' delays (%v): it was not long", out.took, chunks, want)
	}
}
