package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
)

// Kind names what Verify found wrong with a chain.
type Kind string

// The kinds of problem Verify reports.
const (
	// KindEdited: an entry's stored hash does not match its content (its
	// payload, or its prev hash, was changed).
	KindEdited Kind = "edited"
	// KindDeleted: entries are missing (a gap in the sequence numbers, or
	// an entry removed and the later ones renumbered).
	KindDeleted Kind = "deleted"
	// KindInserted: an entry that was not written by the chain sits between
	// two that were (the later entries were renumbered to make room).
	KindInserted Kind = "inserted"
	// KindReordered: two entries swapped places or swapped payloads; both
	// are named.
	KindReordered Kind = "reordered"
	// KindBrokenLink: an entry is intact but does not follow the one before
	// it: the earlier entry was rewritten with a recomputed hash, or one
	// between them was deleted and this one re-hashed.
	KindBrokenLink Kind = "broken-link"
	// KindTruncated: the chain ends before the expected head.
	KindTruncated Kind = "truncated"
	// KindRewritten: the entry at the expected head's position has another
	// hash, so the chain up to it was rebuilt.
	KindRewritten Kind = "rewritten"
	// KindMalformed: sequence numbers out of order or duplicated.
	KindMalformed Kind = "malformed"
)

// Problem is the first thing Verify found wrong.
type Problem struct {
	Kind Kind
	// Seq is the first affected sequence number.
	Seq int64
	// Other is the second entry of a reordered pair, or the last missing
	// sequence number of a deleted range; zero otherwise.
	Other int64
	// Detail explains the finding in a sentence.
	Detail string
}

// Report is the result of Verify.
type Report struct {
	// Records counts the entries that verified, from seq 1 up to Head (or
	// up to the problem).
	Records int64
	// Head is the last entry that verified (seq 0 and Genesis for an empty
	// chain).
	Head Head
	// Problem is nil when the chain is intact.
	Problem *Problem
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.Problem == nil }

// String returns "ok: N records, head seq S hash H" for an intact chain and
// a one-line description of the problem otherwise.
func (r Report) String() string {
	if r.Problem == nil {
		return fmt.Sprintf("ok: %d records, head seq %d hash %s", r.Records, r.Head.Seq, hex.EncodeToString(r.Head.Hash))
	}
	p := r.Problem
	var where string
	switch {
	case p.Kind == KindReordered:
		where = fmt.Sprintf("seq %d and seq %d", p.Seq, p.Other)
	case p.Other > p.Seq:
		where = fmt.Sprintf("seq %d-%d", p.Seq, p.Other)
	default:
		where = fmt.Sprintf("seq %d", p.Seq)
	}
	return fmt.Sprintf("FAIL: %s at %s: %s (%d records verified before it, last good seq %d hash %s)",
		p.Kind, where, p.Detail, r.Records, r.Head.Seq, hex.EncodeToString(r.Head.Hash))
}

// errStop ends a scan early; it never leaves this package.
var errStop = errors.New("stop scan")

// Verify walks the whole chain and reports the first problem: an edited,
// deleted, inserted or reordered entry, naming the sequence numbers
// involved. The error is for failures to read the chain, not for tampering.
//
// A chain whose tail was cut off, or that was rebuilt from some point with
// recomputed hashes, is internally consistent; only VerifyHead, given a
// head recorded earlier, detects that.
func Verify(ctx context.Context, s Store) (Report, error) {
	return verify(ctx, s, nil)
}

// VerifyHead is Verify that also checks that the chain still contains the
// expected head (a Head recorded earlier, for example by the previous
// verification): it fails with KindTruncated when the chain ends before
// want.Seq and with KindRewritten when the entry at want.Seq has another
// hash.
func VerifyHead(ctx context.Context, s Store, want Head) (Report, error) {
	return verify(ctx, s, &want)
}

func verify(ctx context.Context, s Store, want *Head) (Report, error) {
	var (
		rep      Report
		next     = int64(1) // the sequence number expected next
		prev     = Genesis()
		prev2    []byte // hash before prev; nil while next is 1
		bad      *Entry
		wantHash []byte
	)
	err := s.ScanAudit(ctx, 1, func(e Entry) error {
		if e.Seq != next || !bytes.Equal(e.PrevHash, prev) || !linksAt(&e, e.Seq) {
			bad = &e
			return errStop
		}
		if want != nil && e.Seq == want.Seq {
			wantHash = e.Hash
		}
		prev2, prev = prev, e.Hash
		next++
		rep.Records++
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Report{}, fmt.Errorf("verify audit chain: %w", err)
	}
	rep.Head = Head{Seq: next - 1, Hash: prev}
	if bad != nil {
		p, err := diagnose(ctx, s, bad, next, prev, prev2)
		if err != nil {
			return Report{}, fmt.Errorf("verify audit chain: %w", err)
		}
		rep.Problem = p
		return rep, nil
	}
	if want != nil {
		switch {
		case want.Seq == 0:
			// The empty head precedes every chain.
		case next-1 < want.Seq:
			rep.Problem = &Problem{
				Kind: KindTruncated, Seq: next, Other: want.Seq,
				Detail: fmt.Sprintf("the chain ends at seq %d but the expected head is seq %d: the tail was deleted", next-1, want.Seq),
			}
		case !bytes.Equal(wantHash, want.Hash):
			rep.Problem = &Problem{
				Kind: KindRewritten, Seq: want.Seq,
				Detail: fmt.Sprintf("seq %d has hash %s, expected %s: the chain up to it was rebuilt", want.Seq, hex.EncodeToString(wantHash), hex.EncodeToString(want.Hash)),
			}
		}
	}
	return rep, nil
}

// diagnose explains why e, found where seq next was expected after an entry
// with hash prev (and before that prev2), breaks the chain. It may read
// the entries after e.
func diagnose(ctx context.Context, s Store, e *Entry, next int64, prev, prev2 []byte) (*Problem, error) {
	switch {
	case e.Seq > next:
		p := &Problem{Kind: KindDeleted, Seq: next, Other: e.Seq - 1}
		if e.Seq-1 == next {
			p.Other = 0
			p.Detail = fmt.Sprintf("seq %d is missing", next)
		} else {
			p.Detail = fmt.Sprintf("seqs %d to %d are missing", next, e.Seq-1)
		}
		return p, nil
	case e.Seq < next:
		return &Problem{Kind: KindMalformed, Seq: e.Seq,
			Detail: fmt.Sprintf("seq %d follows seq %d: sequence numbers out of order or duplicated", e.Seq, next-1)}, nil
	}
	seq := e.Seq
	if linksAt(e, seq) {
		// Intact itself, but it does not follow the entry before it.
		return &Problem{Kind: KindBrokenLink, Seq: seq,
			Detail: fmt.Sprintf("its prev hash is not the hash of seq %d: seq %d was rewritten with a recomputed hash, or entries between them were deleted", seq-1, seq-1)}, nil
	}

	// The entry right after this one tells insertions and adjacent swaps
	// apart from edits.
	var after *Entry
	if err := s.ScanAudit(ctx, seq+1, func(x Entry) error {
		after = &x
		return errStop
	}); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if after != nil && after.Seq == seq+1 && bytes.Equal(after.PrevHash, prev) && linksAt(after, seq) {
		// The next entry is the one that belongs here.
		if linksAt(e, seq+1) {
			return &Problem{Kind: KindReordered, Seq: seq, Other: seq + 1,
				Detail: fmt.Sprintf("the entries at seq %d and seq %d swapped places", seq, seq+1)}, nil
		}
		return &Problem{Kind: KindInserted, Seq: seq,
			Detail: fmt.Sprintf("seq %d was not written by the chain; the original seq %d now sits at seq %d", seq, seq, seq+1)}, nil
	}
	if prev2 != nil && bytes.Equal(e.PrevHash, prev2) && linksAt(e, seq-1) {
		// This entry belongs one earlier: the one before it was inserted
		// (with a forged but consistent hash).
		return &Problem{Kind: KindInserted, Seq: seq - 1,
			Detail: fmt.Sprintf("seq %d was not written by the chain; the original seq %d now sits at seq %d", seq-1, seq-1, seq)}, nil
	}
	if linksAt(e, seq+1) {
		return &Problem{Kind: KindDeleted, Seq: seq,
			Detail: fmt.Sprintf("the original seq %d was deleted and the later entries renumbered", seq)}, nil
	}

	// Look further on for the entry this one swapped with: one whose hash
	// this payload produces (payloads swapped), or one that belongs here
	// (whole entries swapped).
	var other int64
	if err := s.ScanAudit(ctx, seq+1, func(x Entry) error {
		if linksAt(&x, x.Seq) {
			return nil
		}
		if bytes.Equal(linkHash(x.PrevHash, x.Seq, e.Payload), x.Hash) ||
			(bytes.Equal(x.PrevHash, prev) && linksAt(&x, seq)) {
			other = x.Seq
			return errStop
		}
		return nil
	}); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if other != 0 {
		return &Problem{Kind: KindReordered, Seq: seq, Other: other,
			Detail: fmt.Sprintf("the entries (or payloads) at seq %d and seq %d were swapped", seq, other)}, nil
	}
	return &Problem{Kind: KindEdited, Seq: seq,
		Detail: "its stored hash does not match its content: it was edited, or forged"}, nil
}
