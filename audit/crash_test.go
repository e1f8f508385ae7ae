package audit_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store/sqlite"
)

const (
	envCrashDB    = "RAMPART_AUDIT_CRASH_DB"    // database file of the helper process
	envCrashRound = "RAMPART_AUDIT_CRASH_ROUND" // prefix of its record ids
)

// TestCrashHelper is not a test: it is the process TestCrashDurability
// kills. It appends records from several goroutines through a Writer
// forever and prints "ack SEQ ID" for each one Append acknowledged.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(envCrashDB)
	if path == "" {
		return // not a test: the body of a helper process other tests start
	}
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := audit.NewWriter(s, audit.WriterOptions{})
	round := os.Getenv(envCrashRound)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-%d-%d", round, g, i)
				e, err := w.AppendEntry(context.Background(), record(id))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				// One write(2) per line: a pipe write this small is atomic.
				os.Stdout.WriteString("ack " + strconv.FormatInt(e.Seq, 10) + " " + id + "\n")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashDurability kills (SIGKILL) a process in the middle of appending
// audit records, several times over the same file, and checks that every
// record the process saw acknowledged is in the log and the chain
// verifies.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := map[int64]string{}
	for round := range 4 {
		killAfter := 50 + rand.IntN(400)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
		cmd.Env = append(os.Environ(), envCrashDB+"="+path, envCrashRound+"="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n, killed := 0, false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			seq, err := strconv.ParseInt(f[min(1, len(f)-1)], 10, 64)
			if len(f) != 3 || f[0] != "ack" || err != nil {
				t.Fatalf("helper printed %q", sc.Text())
			}
			if prev, dup := acked[seq]; dup {
				t.Fatalf("seq %d acknowledged twice: %s and %s", seq, prev, f[2])
			}
			acked[seq] = f[2]
			if n++; n == killAfter {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
				// Keep reading: lines already in the pipe were acknowledged too.
			}
		}
		err = cmd.Wait()
		if !killed || err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper ended with %v after %d acks (killed: %v)", round, err, n, killed)
		}
		t.Logf("round %d: killed after %d acks (%d read in total)", round, killAfter, n)

		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("reopen after kill -9: %v", err)
		}
		rep, err := audit.Verify(context.Background(), s)
		if err != nil || !rep.OK() {
			t.Fatalf("round %d: Verify after kill -9 = %v, %v", round, rep, err)
		}
		found := 0
		if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
			rec, err := audit.Decode(e.Payload)
			if err != nil {
				return err
			}
			if id, ok := acked[e.Seq]; ok {
				if id != rec.ID {
					return fmt.Errorf("seq %d holds %s, but %s was acknowledged with it", e.Seq, rec.ID, id)
				}
				found++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if found != len(acked) {
			t.Fatalf("round %d: %d acknowledged records, only %d in the log", round, len(acked), found)
		}
		if rep.Records < int64(len(acked)) {
			t.Fatalf("round %d: chain has %d records, fewer than the %d acknowledged", round, rep.Records, len(acked))
		}
		t.Logf("round %d: %v", round, rep)
	}
}
