package audit_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/audit"
)

func TestLinkGolden(t *testing.T) {
	// Pinned so that a change of the hash format cannot go unnoticed: it
	// would make every existing log fail verification. The value was checked
	// independently with Python's hashlib over the documented layout.
	e := audit.Link(audit.Genesis(), 1, []byte(`{"id":"req-1"}`))
	const want = "de54fdb2e33605d7ae22db32a5d808d2a53f77a35382939258dc3314ff685c94"
	if got := hex.EncodeToString(e.Hash); got != want {
		t.Fatalf("Link hash = %s, want %s", got, want)
	}
}

func TestLinkCommitsToEveryInput(t *testing.T) {
	prev := bytes.Repeat([]byte{7}, audit.HashSize)
	base := audit.Link(prev, 5, []byte("payload"))
	if base.Seq != 5 || !bytes.Equal(base.PrevHash, prev) || string(base.Payload) != "payload" || len(base.Hash) != audit.HashSize {
		t.Fatalf("Link returned %+v", base)
	}
	otherPrev := bytes.Clone(prev)
	otherPrev[31] ^= 1
	variants := map[string]audit.Entry{
		"seq":     audit.Link(prev, 6, []byte("payload")),
		"prev":    audit.Link(otherPrev, 5, []byte("payload")),
		"payload": audit.Link(prev, 5, []byte("payloaD")),
		// Moving a byte between prev and payload must change the hash.
		"boundary": audit.Link(prev[:31], 5, append([]byte{7}, "payload"...)),
	}
	for name, v := range variants {
		if bytes.Equal(v.Hash, base.Hash) {
			t.Errorf("changing the %s does not change the hash", name)
		}
	}
	if again := audit.Link(prev, 5, []byte("payload")); !bytes.Equal(again.Hash, base.Hash) {
		t.Error("Link is not deterministic")
	}
	if g := audit.Genesis(); len(g) != audit.HashSize || !bytes.Equal(g, make([]byte, audit.HashSize)) {
		t.Errorf("Genesis = %x", g)
	}
}

func TestEncodeDecode(t *testing.T) {
	zone := time.FixedZone("X", -7*3600)
	rec := audit.Record{
		ID: "req-1", Time: time.Date(2026, 5, 1, 10, 0, 0, 123, zone), Kind: "request", KeyID: "key_1",
		Decision: "block", Status: 400, Prompt: "<script>&</script>",
		Findings: []audit.Finding{{Detector: "pii", RuleID: "pii.email", Direction: "input", Start: 1, End: 9, Score: 0.9, Action: "block"}},
	}
	b, err := audit.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		t.Error("payload ends with a newline")
	}
	if !bytes.Contains(b, []byte(`"time":"2026-05-01T17:00:00.000000123Z"`)) {
		t.Errorf("time not encoded in UTC: %s", b)
	}
	if !bytes.Contains(b, []byte(`"prompt":"<script>&</script>"`)) {
		t.Errorf("HTML characters escaped: %s", b)
	}
	again, err := audit.Encode(rec)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("Encode is not deterministic: %s vs %s", b, again)
	}
	got, err := audit.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
	if re, _ := audit.Encode(got); !bytes.Equal(re, b) {
		t.Fatalf("re-encoding a decoded record changed it:\n%s\n%s", b, re)
	}
	if _, err := audit.Decode([]byte(`{"id":`)); err == nil {
		t.Error("Decode of truncated JSON succeeded")
	}
}

func TestParseHead(t *testing.T) {
	hash := strings.Repeat("ab", audit.HashSize)
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"12:" + hash, 12, ""},
		{"  0:" + strings.Repeat("00", 32) + "\n", 0, ""},
		{hash, 0, "want SEQ:HEXHASH"},
		{"-1:" + hash, 0, "not a non-negative integer"},
		{"x:" + hash, 0, "not a non-negative integer"},
		{"3:" + hash[:62], 0, "64 hex digits"},
		{"3:" + hash + "00", 0, "64 hex digits"},
		{"3:" + strings.Repeat("zz", 32), 0, "64 hex digits"},
	}
	for _, tt := range tests {
		h, err := audit.ParseHead(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseHead(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || h.Seq != tt.want || len(h.Hash) != audit.HashSize {
			t.Errorf("ParseHead(%q) = %v, %v", tt.in, h, err)
			continue
		}
		if back, err := audit.ParseHead(h.String()); err != nil || back.Seq != h.Seq || !bytes.Equal(back.Hash, h.Hash) {
			t.Errorf("ParseHead(Head.String()) = %v, %v", back, err)
		}
	}
}
