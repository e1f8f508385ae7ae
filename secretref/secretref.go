// Package secretref resolves secret references such as "env:OPENAI_API_KEY"
// and "file:/run/secrets/key" into values that refuse to be printed.
//
// A resolved Secret formats as "[REDACTED]" with fmt, log/slog and
// encoding/json, so passing one to a logger or an error by mistake leaks
// nothing; Reveal returns the value for the one place that needs it (an
// outgoing Authorization header).
package secretref

import (
	"github.com/rampartsec/rampart/internal/smallfile"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// Redacted is what a Secret prints as.
const Redacted = "[REDACTED]"

// Secret holds a resolved secret value.
type Secret struct {
	v string
}

// New wraps a value (for tests and for values that arrive by other means).
func New(v string) Secret { return Secret{v: v} }

// Reveal returns the secret value. Call it only where the value must leave
// the process to its rightful recipient.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String implements fmt.Stringer and never reveals the value.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer (%#v) and never reveals the value.
func (s Secret) GoString() string { return "secretref.Secret{" + Redacted + "}" }

// Format implements fmt.Formatter so that every verb (%s %v %q %x …)
// prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte(s.String()))
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler (JSON, YAML) with the
// redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Resolver turns a reference into a secret. Schemes other than env: and
// file: (vault: for example) register their own resolver.
type Resolver func(ctx context.Context, ref string) (string, error)

var (
	mu        sync.RWMutex
	resolvers = map[string]Resolver{}
)

// RegisterScheme adds a resolver for "scheme:" references.
func RegisterScheme(scheme string, r Resolver) {
	mu.Lock()
	defer mu.Unlock()
	resolvers[scheme] = r
}

// ErrNotReference is returned by Resolve for a string that names no known
// scheme; callers that allow literal values may then use it as it is.
var ErrNotReference = errors.New("not a secret reference")

// IsReference reports whether ref starts with a known scheme ("env:",
// "file:", or a registered one).
func IsReference(ref string) bool {
	scheme, _, ok := strings.Cut(ref, ":")
	if !ok {
		return false
	}
	if scheme == "env" || scheme == "file" {
		return true
	}
	mu.RLock()
	defer mu.RUnlock()
	_, ok = resolvers[scheme]
	return ok
}

// Resolve resolves a reference. Errors name the reference, never the value.
//
//	env:NAME    the environment variable NAME (must be set and non-empty)
//	file:PATH   the file's content with one trailing newline removed
func Resolve(ctx context.Context, ref string) (Secret, error) {
	scheme, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return Secret{}, fmt.Errorf("secret reference %q: %w (want env:NAME or file:PATH)", ref, ErrNotReference)
	}
	switch scheme {
	case "env":
		if rest == "" {
			return Secret{}, fmt.Errorf("secret reference %q: empty variable name", ref)
		}
		v, set := os.LookupEnv(rest)
		if !set {
			return Secret{}, fmt.Errorf("secret reference %q: environment variable %s is not set", ref, rest)
		}
		if v == "" {
			return Secret{}, fmt.Errorf("secret reference %q: environment variable %s is empty", ref, rest)
		}
		return Secret{v: v}, nil
	case "file":
		if rest == "" {
			return Secret{}, fmt.Errorf("secret reference %q: empty path", ref)
		}
		b, err := readSmallFile(rest)
		if err != nil {
			return Secret{}, fmt.Errorf("secret reference %q: %w", ref, err)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			return Secret{}, fmt.Errorf("secret reference %q: file is empty", ref)
		}
		return Secret{v: v}, nil
	}
	mu.RLock()
	r, ok := resolvers[scheme]
	mu.RUnlock()
	if !ok {
		return Secret{}, fmt.Errorf("secret reference %q: unknown scheme %q: %w", ref, scheme, ErrNotReference)
	}
	v, err := r(ctx, rest)
	if err != nil {
		return Secret{}, fmt.Errorf("secret reference %q: %w", ref, err)
	}
	return Secret{v: v}, nil
}

// maxSecretFile bounds file: secrets; a credential is never megabytes long.
const maxSecretFile = 64 << 10

func readSmallFile(path string) ([]byte, error) {
	// The path is not secret; the errors name it.
	return smallfile.Read(path, maxSecretFile)
}
