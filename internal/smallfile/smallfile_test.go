package smallfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		limit int64
		want  string
		err   error
	}{
		{5, "12345", nil},
		{10, "12345", nil},
		{4, "", ErrTooLarge},
	} {
		b, err := Read(p, c.limit)
		if string(b) != c.want || !errors.Is(err, c.err) && err != c.err {
			t.Errorf("Read(limit %d) = %q, %v", c.limit, b, err)
		}
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name the file", err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
