//go:build !unix

package sbom

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
