package audit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit"
)

// FuzzDecode feeds Decode arbitrary payloads (a tampered database can hold
// anything): it must never panic, and whatever it accepts must re-encode
// to a canonical form that is stable.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"req-1","time":"2026-05-01T17:00:00Z","kind":"request","decision":"allow","status":200,"total_us":5}`))
	f.Add([]byte(`{"id":"a","findings":[{"detector":"pii","rule_id":"x","direction":"input","start":1,"end":2,"score":0.5,"action":"redact"}]}`))
	f.Add([]byte(`{"time":"2026-05-01T10:00:00.123456789-07:00","cost_usd":1e-9,"prompt":"<b>\u0000</b>"}`))
	f.Add([]byte(`{"id":"\xff\xfe"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"status":1e400}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, payload []byte) {
		rec, err := audit.Decode(payload)
		if err != nil {
			return
		}
		first, err := audit.Encode(rec)
		if err != nil {
			return // e.g. a year outside 0-9999 that encoding/json refuses
		}
		again, err := audit.Decode(first)
		if err != nil {
			t.Fatalf("Decode of Encode output failed: %v\n%s", err, first)
		}
		second, err := audit.Encode(again)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("canonical encoding is not stable:\n%s\n%s (%v)", first, second, err)
		}
	})
}

// FuzzParseHead checks that ParseHead never panics and that what it
// accepts prints back to an equivalent head.
func FuzzParseHead(f *testing.F) {
	f.Add("12:" + strings.Repeat("ab", 32))
	f.Add("0:" + strings.Repeat("00", 32))
	f.Add("-1:")
	f.Add("9223372036854775808:" + strings.Repeat("ff", 32))
	f.Add(":")
	f.Add("1:" + strings.Repeat("g", 64))
	f.Fuzz(func(t *testing.T, s string) {
		h, err := audit.ParseHead(s)
		if err != nil {
			return
		}
		if h.Seq < 0 || len(h.Hash) != audit.HashSize {
			t.Fatalf("ParseHead(%q) = %v", s, h)
		}
		back, err := audit.ParseHead(h.String())
		if err != nil || back.Seq != h.Seq || !bytes.Equal(back.Hash, h.Hash) {
			t.Fatalf("ParseHead(%q).String() does not parse back: %v, %v", s, back, err)
		}
	})
}
