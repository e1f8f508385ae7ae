package encrypt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rampartsec/rampart/internal/ctxio"
)

// EncryptFile encrypts src into dst. The output is written to a temporary
// file beside dst (mode 0600) and renamed into place when complete.
func EncryptFile(ctx context.Context, src, dst string, kw KeyWrapper, opts Options) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomic(dst, func(out io.Writer) error {
		w, err := NewWriter(ctx, out, kw, opts)
		if err != nil {
			return err
		}
		if _, err := w.ReadFrom(ctxio.Reader(ctx, in)); err != nil {
			return fmt.Errorf("encrypt %s: %w", src, err)
		}
		return w.Close()
	})
}

// DecryptFile decrypts src into dst. Plaintext goes to a temporary file
// beside dst (mode 0600) that is renamed to dst only after the final chunk
// authenticated; on any error it is removed and dst is left untouched.
func DecryptFile(ctx context.Context, src, dst string, kw KeyWrapper) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomic(dst, func(out io.Writer) error {
		r, err := NewReader(ctx, ctxio.Reader(ctx, in), kw)
		if err != nil {
			return fmt.Errorf("decrypt %s: %w", src, err)
		}
		if _, err := r.WriteTo(out); err != nil {
			return fmt.Errorf("decrypt %s: %w", src, err)
		}
		return nil
	})
}

// writeAtomic runs fill on a temporary file beside dst and renames it to
// dst when fill succeeds.
func writeAtomic(dst string, fill func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// No buffering: the Writer and Reader write whole chunks.
	if err := fill(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	return nil
}

// IsAuthError reports whether err means the data was not authentic:
// changed, truncated, reordered, or decrypted with the wrong key.
func IsAuthError(err error) bool {
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrTruncated)
}
