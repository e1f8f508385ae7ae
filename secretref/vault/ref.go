package vault

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxRefLen bounds the length of a reference (after "vault:").
const MaxRefLen = 1024

// Ref is a parsed vault: reference: the field Field of the KV version 2
// secret Path under the secrets engine mounted at Mount, at version
// Version (0 for the latest).
type Ref struct {
	Mount   string
	Path    string
	Field   string
	Version int
}

// String returns the reference in the form ParseRef accepts, without the
// "vault:" scheme.
func (r Ref) String() string {
	s := r.Mount + "/" + r.Path
	if r.Version > 0 {
		s += "?version=" + strconv.Itoa(r.Version)
	}
	return s + "#" + r.Field
}

// ErrRef is wrapped by every ParseRef error.
var ErrRef = errors.New("invalid vault reference")

// ParseRef parses the part of a reference after "vault:":
//
//	MOUNT/PATH[?version=N]#FIELD
//
// MOUNT is the first path segment (the KV v2 mount, e.g. "secret"), PATH
// the rest (e.g. "llm/openai"), FIELD the key inside the secret's data,
// and N a positive version number. Segments are non-empty, not "." or "..",
// and contain printable ASCII other than space, '?', '#', '%' and '\'.
func ParseRef(s string) (Ref, error) {
	if len(s) > MaxRefLen {
		return Ref{}, fmt.Errorf("%w: %d bytes, more than %d", ErrRef, len(s), MaxRefLen)
	}
	p, field, ok := strings.Cut(s, "#")
	if !ok || field == "" {
		return Ref{}, fmt.Errorf("%w: no #FIELD (want MOUNT/PATH#FIELD)", ErrRef)
	}
	if i := badChar(field, "#"); i >= 0 {
		return Ref{}, fmt.Errorf("%w: field: character at offset %d not allowed", ErrRef, len(p)+1+i)
	}
	var r Ref
	r.Field = field
	if p, q, ok := strings.Cut(p, "?"); ok {
		v, found := strings.CutPrefix(q, "version=")
		if !found {
			return Ref{}, fmt.Errorf("%w: query %q: only ?version=N is supported", ErrRef, q)
		}
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil || n == 0 || v[0] == '0' {
			return Ref{}, fmt.Errorf("%w: version %q is not a positive integer", ErrRef, v)
		}
		r.Version = int(n)
		s = p
	} else {
		s = p
	}
	mount, rest, ok := strings.Cut(s, "/")
	if !ok || mount == "" || rest == "" {
		return Ref{}, fmt.Errorf("%w: want MOUNT/PATH#FIELD", ErrRef)
	}
	off := 0
	for _, seg := range strings.Split(s, "/") {
		switch {
		case seg == "":
			return Ref{}, fmt.Errorf("%w: empty path segment at offset %d", ErrRef, off)
		case seg == "." || seg == "..":
			return Ref{}, fmt.Errorf("%w: path segment %q at offset %d", ErrRef, seg, off)
		}
		if i := badChar(seg, "?#%\\"); i >= 0 {
			return Ref{}, fmt.Errorf("%w: path: character at offset %d not allowed", ErrRef, off+i)
		}
		off += len(seg) + 1
	}
	r.Mount, r.Path = mount, rest
	return r, nil
}

// badChar returns the offset of the first byte of s that is not printable
// ASCII, is a space, or is in extra; -1 if there is none.
func badChar(s, extra string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(extra, c) >= 0 {
			return i
		}
	}
	return -1
}
