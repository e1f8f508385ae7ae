package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/fixtures"
)

func TestWalkDispatch(t *testing.T) {
	z := buildZip(t, zfile{name: "data.pkl", data: pickleHead, method: zip.Deflate})
	tests := []struct {
		name    string
		data    []byte
		format  Format
		entries int
		rule    *finding.Rule
		err     error
	}{
		{"zip", z, Zip, 1, nil, nil},
		{"pickle in front of a zip", append(append([]byte{}, pickleHead...), z...), Zip, 1, RulePrefix, nil},
		{"tar", buildTar(t, tfile{name: "pickle", data: pickleHead}), Tar, 1, nil, nil},
		{"gzip", fixtures.Gzip(pickleHead), Gzip, 1, nil, nil},
		{"zlib", fixtures.Zlib(pickleHead), Zlib, 1, nil, nil},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04rest"), SevenZip, 0, RuleNotInspected, nil},
		{"plain pickle", pickleHead, Unknown, 0, nil, ErrNotArchive},
		{"empty", nil, Unknown, 0, nil, ErrNotArchive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			f, fs, err := Walk(context.Background(), bytes.NewReader(tt.data), int64(len(tt.data)), Limits{}, func(e Entry) error {
				n++
				rc, err := e.Open()
				if err != nil {
					return err
				}
				defer rc.Close()
				var b [2]byte
				if _, err := rc.Read(b[:]); err != nil || b[0] != 0x80 {
					t.Errorf("entry %q: % x %v", e.Name, b, err)
				}
				return nil
			})
			if f != tt.format || n != tt.entries || !errors.Is(err, tt.err) {
				t.Errorf("format %v entries %d err %v", f, n, err)
			}
			if tt.rule != nil && !hasRule(fs, tt.rule) {
				t.Errorf("missing %s: %v", tt.rule.ID, rules(fs))
			}
		})
	}
}
