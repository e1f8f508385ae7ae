package audit_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/internal/testenv"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/sqlite"
	"github.com/rampartsec/rampart/store/storetest"
)

// Environment of the journal helper process.
const (
	envJSQLite = "RAMPART_JOURNAL_HELPER_SQLITE"   // database file, or
	envJPG     = "RAMPART_JOURNAL_HELPER_POSTGRES" // PostgreSQL DSN
	envJDir    = "RAMPART_JOURNAL_HELPER_DIR"      // journal directory
	envJMode   = "RAMPART_JOURNAL_HELPER_MODE"     // "append" or "open"
	envJRound  = "RAMPART_JOURNAL_HELPER_ROUND"    // prefix of record ids
	envJOpts   = "RAMPART_JOURNAL_HELPER_OPTS"     // "", "fsync", "small" or "noship"
	envJCrash  = "RAMPART_JOURNAL_HELPER_CRASH"    // "STEP:N": SIGKILL itself at the N-th STEP
)

// helperLimit stops an appending helper that was never killed.
const helperLimit = 50000

func helperOptions(kind string) audit.JournalOptions {
	opts := audit.JournalOptions{Logger: quiet, RecoverInterval: -1}
	switch kind {
	case "fsync":
		opts.Fsync = true
	case "small": // ship often, in small batches, and rotate small files
		opts.ShipInterval, opts.MaxBatch, opts.RotateBytes = 2*time.Millisecond, 32, 16<<10
	case "noship": // leave records unshipped
		opts.ShipInterval = never
	}
	return opts
}

// TestJournalHelper is not a test: it is the process the crash tests
// kill. In "append" mode it appends records from 8 goroutines through a
// Journal and prints "ack ID" for each one Append acknowledged; in "open"
// mode it opens a journal (recovering the directory) and closes it.
func TestJournalHelper(t *testing.T) {
	mode := os.Getenv(envJMode)
	if mode == "" {
		return // not a test: the body of a helper process other tests start
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "journal helper:", err)
		os.Exit(1)
	}
	if step, nth, ok := strings.Cut(os.Getenv(envJCrash), ":"); ok {
		n, _ := strconv.ParseInt(nth, 10, 64)
		var seen atomic.Int64
		audit.SetJournalCrashHook(func(s string) {
			if s == step && seen.Add(1) == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		})
	}
	ctx := context.Background()
	var (
		s   audit.JournalStore
		err error
	)
	if dsn := os.Getenv(envJPG); dsn != "" {
		s, err = postgres.Open(ctx, dsn, 4)
	} else {
		s, err = sqlite.Open(ctx, os.Getenv(envJSQLite))
	}
	if err != nil {
		fail(err)
	}
	j, err := audit.OpenJournal(ctx, os.Getenv(envJDir), s, helperOptions(os.Getenv(envJOpts)))
	if err != nil {
		fail(err)
	}
	if mode == "open" {
		if err := j.Close(ctx); err != nil {
			fail(err)
		}
		os.Exit(0)
	}
	round := os.Getenv(envJRound)
	// With small files, pace the appenders so that the shipper keeps up
	// and rotates often.
	pace := 0 * time.Millisecond
	if os.Getenv(envJOpts) == "small" {
		pace = time.Millisecond
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		count atomic.Int64
	)
	for g := range 8 {
		wg.Go(func() {
			for i := 0; count.Add(1) <= helperLimit; i++ {
				id := fmt.Sprintf("%s.%d-%d", round, g, i)
				if err := j.Append(ctx, record(id)); err != nil {
					fail(err)
				}
				mu.Lock()
				// One write(2) per line: a pipe write this small is atomic.
				os.Stdout.WriteString("ack " + id + "\n")
				mu.Unlock()
				if pace > 0 {
					time.Sleep(pace)
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(ctx); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// crashEnv names the database and directory a helper works on.
type crashEnv struct {
	db  string // envJSQLite=path or envJPG=dsn
	dir string
}

// runHelper runs a helper to its end and returns the ids it saw
// acknowledged. With killAfter > 0 the parent SIGKILLs it after that many
// acks; with crash set the helper kills itself at that step. Either way it
// must die by SIGKILL.
func runHelper(t *testing.T, env crashEnv, mode, round, opts, crash string, killAfter int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalHelper$")
	cmd.Env = append(os.Environ(), env.db, envJDir+"="+env.dir, envJMode+"="+mode,
		envJRound+"="+round, envJOpts+"="+opts, envJCrash+"="+crash)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			t.Fatalf("helper printed %q", sc.Text())
		}
		acked = append(acked, id)
		if len(acked) == killAfter {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			// Keep reading: lines already in the pipe were acknowledged too.
		}
	}
	err = cmd.Wait()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("helper (%s, crash %q) ended with %v after %d acks, want killed", mode, crash, err, len(acked))
	}
	return acked
}

// recoverAndCheck recovers the directory in this process and checks that
// the chain verifies and holds every acknowledged record exactly once (and
// unacknowledged ones at most once), and that no journal file is left.
// It returns the number of records the recovery shipped.
func recoverAndCheck(t *testing.T, s audit.JournalStore, dir string, acked []string) int {
	t.Helper()
	recovered, err := audit.RecoverJournals(context.Background(), dir, s, audit.JournalOptions{Logger: quiet})
	if err != nil {
		t.Fatalf("recover after kill -9: %v", err)
	}
	ids := chainIDs(t, s)
	seen := make(map[string]int, len(ids))
	for _, id := range ids {
		if seen[id]++; seen[id] == 2 {
			t.Errorf("record %s is in the chain twice", id)
		}
	}
	missing := 0
	for _, id := range acked {
		if seen[id] == 0 {
			if missing++; missing <= 5 {
				t.Errorf("acknowledged record %s is not in the chain", id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged records lost", missing, len(acked))
	}
	checkPerWriterOrder(t, ids)
	if f := journalFiles(t, dir); len(f) != 0 {
		t.Fatalf("journal files left after recovery: %v", f)
	}
	return recovered
}

// TestJournalCrashDurability kills (SIGKILL) a process in the middle of
// appending through a Journal, several times over the same database and
// journal directory, and checks that recovery puts every record the
// process saw acknowledged into the chain exactly once.
func TestJournalCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	type backend struct {
		name  string
		store func(t *testing.T) (audit.JournalStore, string)
	}
	for _, b := range []backend{
		{"sqlite", func(t *testing.T) (audit.JournalStore, string) {
			path := filepath.Join(t.TempDir(), "crash.db")
			return openSQLiteAt(t, path), envJSQLite + "=" + path
		}},
		{"postgres", func(t *testing.T) (audit.JournalStore, string) {
			testenv.PostgresDSN(t)
			dsn := storetest.NewPostgresDatabase(t)
			return newPostgres(t, dsn), envJPG + "=" + dsn
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			s, db := b.store(t)
			env := crashEnv{db: db, dir: t.TempDir()}
			var (
				acked     []string
				recovered int
			)
			for round, opts := range []string{"", "fsync", "small", "", "fsync"} {
				killAfter := 50 + rand.IntN(1000)
				got := runHelper(t, env, "append", "r"+strconv.Itoa(round), opts, "", killAfter)
				acked = append(acked, got...)
				n := recoverAndCheck(t, s, env.dir, acked)
				recovered += n
				t.Logf("round %d (%q): killed after %d acks, %d read in total; recovery shipped %d", round, opts, killAfter, len(got), n)
			}
			if recovered == 0 {
				t.Fatal("no round left records for recovery to ship: the test proves nothing")
			}
		})
	}
}

// TestJournalCrashPoints kills a journal's process at each step of its
// protocol where a crash leaves a distinct state (between the store's
// commit and what follows it, within rotation, file deletion and
// recovery), then recovers and checks exactly-once delivery.
func TestJournalCrashPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	// state checks what the crash left: how many journal files, and the
	// store's offset for the first one (orphan: the file killed first).
	type state struct {
		files  int    // -1: not checked
		offset string // "partial" (between 0 and the file size), "full" or "stale" (file gone, offset kept), alternatives separated by "|"; "": not checked
	}
	tests := []struct {
		step string
		nth  int
		// orphan: first leave an unshipped journal (a helper killed by
		// the parent), then crash while recovering it.
		orphan bool
		want   state
	}{
		{"ship-committed", 1, false, state{1, "partial|full"}},
		{"ship-committed", 20, false, state{-1, ""}},
		{"rotate-created", 2, false, state{2, ""}},
		{"rotate-swapped", 2, false, state{2, ""}},
		{"retire-unlink", 2, false, state{2, "full"}},
		{"retire-forget", 2, false, state{1, ""}},
		{"recover-committed", 2, true, state{1, "partial"}},
		{"recover-unlink", 1, true, state{1, "full"}},
		{"recover-forget", 1, true, state{0, "stale"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s#%d", tt.step, tt.nth), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "crash.db")
			s := openSQLiteAt(t, path)
			env := crashEnv{db: envJSQLite + "=" + path, dir: t.TempDir()}
			crash := tt.step + ":" + strconv.Itoa(tt.nth)
			var (
				acked []string
				first string
			)
			if tt.orphan {
				acked = runHelper(t, env, "append", "orphan", "noship", "", 300)
				files := journalFiles(t, env.dir)
				if len(files) != 1 {
					t.Fatalf("%d journal files after the first kill, want 1", len(files))
				}
				first = filepath.Base(files[0])
				runHelper(t, env, "open", "", "small", crash, 0)
			} else {
				acked = runHelper(t, env, "append", "live", "small", crash, 0)
			}
			files := journalFiles(t, env.dir)
			if tt.want.files >= 0 && len(files) != tt.want.files {
				t.Errorf("after the crash: journal files %v, want %d", files, tt.want.files)
			}
			if first == "" && len(files) > 0 {
				first = filepath.Base(files[0])
			}
			if tt.want.offset != "" {
				off, err := s.JournalOffset(context.Background(), first)
				if err != nil {
					t.Fatal(err)
				}
				var size int64 = -1
				if fi, err := os.Stat(filepath.Join(env.dir, first)); err == nil {
					size = fi.Size()
				}
				var got string
				switch {
				case size < 0 && off > 0:
					got = "stale"
				case off == 0:
					got = "0"
				case off == size:
					got = "full"
				case off < size:
					got = "partial"
				default:
					got = fmt.Sprintf("offset %d past the size %d", off, size)
				}
				if !slices.Contains(strings.Split(tt.want.offset, "|"), got) {
					t.Errorf("after the crash: offset of %s is %q (%d of %d bytes), want %q", first, got, off, size, tt.want.offset)
				}
			}
			recoverAndCheck(t, s, env.dir, acked)
		})
	}
}
