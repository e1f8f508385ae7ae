package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/fixtures"
)

func walkStream(t *testing.T, b []byte, lim Limits) ([]byte, []finding.Finding, error) {
	t.Helper()
	f := sniffStream(b)
	var data []byte
	var rerr error
	fs, err := WalkCompressed(context.Background(), bytes.NewReader(b), int64(len(b)), f, lim, func(e Entry) error {
		rc, err := e.Open()
		if err != nil {
			rerr = err
			return nil
		}
		data, rerr = io.ReadAll(rc)
		rc.Close()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, fs, rerr
}

func TestWalkCompressed(t *testing.T) {
	for name, b := range map[string][]byte{"gzip": fixtures.Gzip(pickleHead), "zlib (joblib)": fixtures.Zlib(pickleHead)} {
		data, fs, err := walkStream(t, b, Limits{})
		if err != nil || !bytes.Equal(data, pickleHead) || len(fs) != 0 {
			t.Errorf("%s: %q %v %v", name, data, err, rules(fs))
		}
	}
	t.Run("bomb", func(t *testing.T) {
		data, fs, err := walkStream(t, fixtures.Gzip(make([]byte, 16<<20)), Limits{})
		if !errors.Is(err, ErrLimit) || !hasRule(fs, RuleRatio) || len(data) >= 16<<20 {
			t.Errorf("read %d, err %v, findings %v", len(data), err, rules(fs))
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		b := fixtures.Gzip(bytes.Repeat([]byte("pickle "), 1000))
		b[len(b)/2] ^= 0xff
		_, fs, err := walkStream(t, b, Limits{})
		if err == nil || !hasRule(fs, RuleMalformed) {
			t.Errorf("err %v findings %v", err, rules(fs))
		}
	})
	t.Run("not inspected", func(t *testing.T) {
		b := []byte("7z\xbc\xaf\x27\x1crest")
		called := false
		fs, err := WalkCompressed(context.Background(), bytes.NewReader(b), int64(len(b)), SevenZip, Limits{}, func(Entry) error { called = true; return nil })
		if err != nil || called || !hasRule(fs, RuleNotInspected) {
			t.Errorf("err %v called %v findings %v", err, called, rules(fs))
		}
	})
	t.Run("protocol-0 pickles are not zlib", func(t *testing.T) {
		for _, p := range []string{"(S'x'\n.", "(dp0\n.", "(lp0\n.", "cos\nsystem\n"} {
			if f := Sniff([]byte(p)); f != Unknown || isZlib([]byte(p)) {
				t.Errorf("Sniff(%q) = %v", p, f)
			}
		}
	})
}
