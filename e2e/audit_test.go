package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite", to tamper with the audit log

	"github.com/rampartsec/rampart/internal/fakeupstream"
)

const defaultPolicy = `  - name: e2e
    input:
      - {detector: secrets, action: flag}
    output:
      - {detector: secrets, action: redact}`

// TestAuditVerifyFindsTampering: after real traffic `rampart audit
// verify` passes; after one record's payload is edited in the SQLite file
// it fails and names that record.
func TestAuditVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := writeFile(t, dir, "rampart.yaml", sqliteConfig(dataDir, up.URL, defaultPolicy))
	env := []string{envUpstreamKey + "=" + up.Key}
	store := []string{"--config", cfgPath}
	key, _ := createKey(t, env, store, "--name", "audited")
	gw := startGateway(t, env, store...)
	for i := range 12 {
		r := mustSend(t, "POST", gw.URL+"/v1/chat/completions", key, chatBody(fmt.Sprintf("hello %d", i), i%3 == 0))
		if r.Status != 200 {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	if err := gw.stop(); err != nil {
		t.Fatalf("rampart serve did not stop cleanly: %v\n%s", err, gw.stderr)
	}

	res := rampart(t, env, append([]string{"audit", "verify"}, store...)...)
	if res.Code != 0 || !strings.Contains(res.Stdout, "ok: 13 records") {
		t.Fatalf("audit verify on an untouched log (12 requests, 1 key.create): exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}

	// Edit the status of one request record in the middle.
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var seq int64
	err = db.QueryRowContext(ctx, `SELECT seq FROM audit_log WHERE CAST(payload AS TEXT) LIKE '%"status":200%'
		ORDER BY seq LIMIT 1 OFFSET 5`).Scan(&seq)
	if err != nil {
		t.Fatalf("find a record to tamper with: %v", err)
	}
	out, err := db.ExecContext(ctx, `UPDATE audit_log
		SET payload = CAST(replace(CAST(payload AS TEXT), '"status":200', '"status":201') AS BLOB) WHERE seq = ?`, seq)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := out.RowsAffected(); n != 1 {
		t.Fatalf("tampering changed %d rows", n)
	}
	db.Close()

	res = rampart(t, env, append([]string{"audit", "verify"}, store...)...)
	if res.Code == 0 {
		t.Fatalf("audit verify passes a tampered log:\n%s", res.Stdout)
	}
	if !regexp.MustCompile(fmt.Sprintf(`\bseq %d\b`, seq)).MatchString(res.Stdout + res.Stderr) {
		t.Errorf("audit verify does not name the edited record (seq %d):\n%s%s", seq, res.Stdout, res.Stderr)
	}
}

// TestKillNineKeepsAcknowledgedRecords: a gateway killed with SIGKILL
// under load loses no audit record of a request whose answer a client
// received, and its log still verifies after a restart on the same data.
func TestKillNineKeepsAcknowledgedRecords(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	up.Set(fakeupstream.Behaviour{Delay: 5 * time.Millisecond})
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := writeFile(t, dir, "rampart.yaml", sqliteConfig(dataDir, up.URL, defaultPolicy))
	env := []string{envUpstreamKey + "=" + up.Key}
	store := []string{"--config", cfgPath}
	key, _ := createKey(t, env, store, "--name", "crash")
	gw := startGateway(t, env, store...)

	var (
		mu    sync.Mutex
		acked []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for i := range 6 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				r, err := send(ctx, "POST", gw.URL+"/v1/chat/completions", key, chatBody("hi", (i+n)%2 == 0))
				cancel()
				if err != nil {
					continue // in flight when the process died: not acknowledged
				}
				if r.Status == 200 && (n%2 != 0 || strings.Contains(string(r.Body), "[DONE]")) {
					mu.Lock()
					acked = append(acked, r.Header.Get("X-Request-Id"))
					mu.Unlock()
				}
			}
		})
	}
	// Kill once a good number of requests were answered.
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests answered in 60s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	gw.kill()
	close(stop)
	wg.Wait()
	mu.Lock()
	ids := append([]string(nil), acked...)
	mu.Unlock()
	t.Logf("%d requests acknowledged before SIGKILL", len(ids))

	gw.restart()
	if r := mustSend(t, "POST", gw.URL+"/v1/chat/completions", key, chatBody("after the crash", false)); r.Status != 200 {
		t.Fatalf("after the restart: %d %s", r.Status, r.Body)
	}
	res := rampart(t, env, append([]string{"audit", "verify"}, store...)...)
	if res.Code != 0 {
		t.Fatalf("audit verify after SIGKILL: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	_, recs := auditTail(t, env, store)
	have := make(map[string]bool, len(recs))
	for _, r := range recs {
		have[r.ID] = true
	}
	var lost []string
	for _, id := range ids {
		if !strings.HasPrefix(id, "req_") {
			t.Fatalf("an answer without a request id: %q", id)
		}
		if !have[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged requests have no audit record after SIGKILL, e.g. %v", len(lost), len(ids), lost[:min(5, len(lost))])
	}
}
