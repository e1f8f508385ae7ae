package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit"
)

// rows is an in-memory chain, kept sorted by Seq, for exercising Verify's
// reasoning over every small tampering exhaustively; the same tamperings
// are done through SQL on real databases in tamper_test.go.
type rows []audit.Entry

func (r *rows) AppendAudit(_ context.Context, payloads [][]byte) ([]audit.Entry, error) {
	prev, seq := audit.Genesis(), int64(0)
	if n := len(*r); n > 0 {
		prev, seq = (*r)[n-1].Hash, (*r)[n-1].Seq
	}
	var out []audit.Entry
	for _, p := range payloads {
		seq++
		e := audit.Link(prev, seq, p)
		*r = append(*r, e)
		out = append(out, e)
		prev = e.Hash
	}
	return out, nil
}

func (r *rows) ScanAudit(_ context.Context, from int64, fn func(audit.Entry) error) error {
	for _, e := range *r {
		if e.Seq >= from {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func chainOf(n int) *rows {
	r := &rows{}
	for i := 1; i <= n; i++ {
		_, _ = r.AppendAudit(context.Background(), [][]byte{fmt.Appendf(nil, `{"id":"req-%d"}`, i)})
	}
	return r
}

func (r *rows) at(seq int64) *audit.Entry {
	for i := range *r {
		if (*r)[i].Seq == seq {
			return &(*r)[i]
		}
	}
	panic(fmt.Sprintf("no seq %d", seq))
}

func (r *rows) sort() { slices.SortFunc(*r, func(a, b audit.Entry) int { return int(a.Seq - b.Seq) }) }

func (r *rows) delete(seq int64) {
	*r = slices.DeleteFunc(*r, func(e audit.Entry) bool { return e.Seq == seq })
}

// shift adds d to the seq of every entry at or after from.
func (r *rows) shift(from, d int64) {
	for i := range *r {
		if (*r)[i].Seq >= from {
			(*r)[i].Seq += d
		}
	}
	r.sort()
}

func (r *rows) insert(e audit.Entry) { *r = append(*r, e); r.sort() }

type want struct {
	kind  audit.Kind
	seq   int64
	other int64
}

func check(t *testing.T, name string, s audit.Store, w *want) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s)
	if err != nil {
		t.Fatalf("%s: Verify: %v", name, err)
	}
	switch {
	case w == nil && !rep.OK():
		t.Errorf("%s: Verify = %v, want ok", name, rep)
	case w != nil && rep.OK():
		t.Errorf("%s: Verify = %v, want %s at seq %d", name, rep, w.kind, w.seq)
	case w != nil && (rep.Problem.Kind != w.kind || rep.Problem.Seq != w.seq || rep.Problem.Other != w.other):
		t.Errorf("%s: Verify = %v\n\twant %s at seq %d (other %d)", name, rep, w.kind, w.seq, w.other)
	}
	return rep
}

func TestVerifyIntact(t *testing.T) {
	for n := range 5 {
		r := chainOf(n)
		rep := check(t, fmt.Sprintf("%d entries", n), r, nil)
		if rep.Records != int64(n) || rep.Head.Seq != int64(n) {
			t.Errorf("%d entries: report %v", n, rep)
		}
		wantHash := audit.Genesis()
		if n > 0 {
			wantHash = r.at(int64(n)).Hash
		}
		want := fmt.Sprintf("ok: %d records, head seq %d hash %x", n, n, wantHash)
		if rep.String() != want {
			t.Errorf("String() = %q, want %q", rep.String(), want)
		}
	}
}

// TestVerifyEveryTampering applies each kind of tampering at every position
// of chains of 1 to 7 entries and checks that Verify names it exactly.
func TestVerifyEveryTampering(t *testing.T) {
	for n := int64(1); n <= 7; n++ {
		for i := int64(1); i <= n; i++ {
			name := func(what string) string { return fmt.Sprintf("n=%d %s at %d", n, what, i) }

			r := chainOf(int(n))
			r.at(i).Payload = []byte(`{"id":"forged"}`)
			check(t, name("edit payload"), r, &want{audit.KindEdited, i, 0})

			r = chainOf(int(n))
			r.at(i).PrevHash = bytes.Repeat([]byte{1}, audit.HashSize)
			check(t, name("edit prev hash"), r, &want{audit.KindEdited, i, 0})

			r = chainOf(int(n))
			r.at(i).Hash = bytes.Repeat([]byte{1}, audit.HashSize)
			check(t, name("edit hash"), r, &want{audit.KindEdited, i, 0})

			// An edit with a recomputed hash breaks the next link.
			if i < n {
				r = chainOf(int(n))
				e := r.at(i)
				*e = audit.Link(e.PrevHash, i, []byte(`{"id":"forged"}`))
				check(t, name("edit with recomputed hash"), r, &want{audit.KindBrokenLink, i + 1, 0})
			}

			if i < n {
				r = chainOf(int(n))
				r.delete(i)
				check(t, name("delete"), r, &want{audit.KindDeleted, i, 0})

				r = chainOf(int(n))
				r.delete(i)
				r.shift(i+1, -1)
				check(t, name("delete and renumber"), r, &want{audit.KindDeleted, i, 0})
			}
			if i+1 < n {
				r = chainOf(int(n))
				r.delete(i)
				r.delete(i + 1)
				check(t, name("delete two"), r, &want{audit.KindDeleted, i, i + 1})
			}

			for j := i + 1; j <= n; j++ {
				r = chainOf(int(n))
				a, b := r.at(i), r.at(j)
				a.Payload, b.Payload = b.Payload, a.Payload
				check(t, name(fmt.Sprintf("swap payloads with %d", j)), r, &want{audit.KindReordered, i, j})

				r = chainOf(int(n))
				a, b = r.at(i), r.at(j)
				a.Seq, b.Seq = b.Seq, a.Seq
				r.sort()
				check(t, name(fmt.Sprintf("swap entries with %d", j)), r, &want{audit.KindReordered, i, j})
			}

			// Insert a forged entry at i, moving the originals up, once with
			// a hash that links and once with garbage.
			for _, consistent := range []bool{true, false} {
				r = chainOf(int(n))
				prev := audit.Genesis()
				if i > 1 {
					prev = r.at(i - 1).Hash
				}
				forged := audit.Link(prev, i, []byte(`{"id":"forged"}`))
				if !consistent {
					forged.Hash = bytes.Repeat([]byte{9}, audit.HashSize)
				}
				r.shift(i, 1)
				r.insert(forged)
				check(t, name(fmt.Sprintf("insert (consistent hash %v)", consistent)), r, &want{audit.KindInserted, i, 0})
			}
		}
	}
}

func TestVerifyLimits(t *testing.T) {
	// What a chain alone cannot show: a cut tail, a rebuilt suffix, or a
	// forged entry linked onto the end. VerifyHead with an earlier head
	// catches the first two.
	r := chainOf(10)
	head := audit.Head{Seq: 10, Hash: r.at(10).Hash}
	check(t, "intact", r, nil)
	rep, err := audit.VerifyHead(context.Background(), r, head)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyHead of an intact chain = %v, %v", rep, err)
	}

	r.delete(10)
	r.delete(9)
	check(t, "truncated, without a head", r, nil)
	rep, _ = audit.VerifyHead(context.Background(), r, head)
	if rep.OK() || rep.Problem.Kind != audit.KindTruncated || rep.Problem.Seq != 9 || rep.Problem.Other != 10 {
		t.Fatalf("VerifyHead after truncation = %v", rep)
	}
	if !strings.Contains(rep.String(), "seq 9-10") {
		t.Errorf("report does not name the missing range: %v", rep)
	}

	r = chainOf(10)
	rebuilt := chainOf(5)
	for i := 6; i <= 10; i++ {
		_, _ = rebuilt.AppendAudit(context.Background(), [][]byte{fmt.Appendf(nil, `{"id":"rewritten-%d"}`, i)})
	}
	check(t, "rebuilt, without a head", rebuilt, nil)
	rep, _ = audit.VerifyHead(context.Background(), rebuilt, head)
	if rep.OK() || rep.Problem.Kind != audit.KindRewritten || rep.Problem.Seq != 10 {
		t.Fatalf("VerifyHead after a rebuild = %v", rep)
	}
	// A head older than the current one still verifies as the log grows.
	older := audit.Head{Seq: 7, Hash: r.at(7).Hash}
	if rep, _ := audit.VerifyHead(context.Background(), r, older); !rep.OK() {
		t.Fatalf("VerifyHead with an older head = %v", rep)
	}
	if rep, _ := audit.VerifyHead(context.Background(), r, audit.Head{Hash: audit.Genesis()}); !rep.OK() {
		t.Fatalf("VerifyHead with the empty head = %v", rep)
	}
}

func TestVerifyReportString(t *testing.T) {
	r := chainOf(5)
	a, b := r.at(2), r.at(4)
	a.Payload, b.Payload = b.Payload, a.Payload
	rep := check(t, "swap", r, &want{audit.KindReordered, 2, 4})
	s := rep.String()
	for _, part := range []string{"FAIL: reordered at seq 2 and seq 4", "1 records verified before it", "last good seq 1"} {
		if !strings.Contains(s, part) {
			t.Errorf("report %q lacks %q", s, part)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	r := chainOf(3)
	*r = append(*r, (*r)[1]) // a duplicate of seq 2, after seq 3
	check(t, "duplicate seq", r, &want{audit.KindMalformed, 2, 0})
}
