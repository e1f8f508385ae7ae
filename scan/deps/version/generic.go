package version

import (
	"fmt"
	"strings"
)

// Generic is a version of an ecosystem without its own rules here. It
// splits the string into runs of digits and runs of other characters and
// compares them pairwise: digit runs numerically, other runs in byte
// order, a digit run after a non-digit run; a version that is a prefix of
// another sorts first. Leading "v" is ignored.
type Generic struct {
	raw   string
	parts []string
}

// ParseGeneric splits v for generic ordering; it fails only on empty or
// over-long input.
func ParseGeneric(v string) (Generic, error) {
	if len(v) > MaxLen {
		return Generic{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLen)
	}
	t := strings.TrimPrefix(strings.TrimSpace(v), "v")
	if t == "" {
		return Generic{}, fmt.Errorf("%w: empty version", ErrInvalid)
	}
	g := Generic{raw: v}
	for i := 0; i < len(t); {
		j := i + 1
		d := t[i] >= '0' && t[i] <= '9'
		for j < len(t) && (t[j] >= '0' && t[j] <= '9') == d {
			j++
		}
		g.parts = append(g.parts, t[i:j])
		i = j
	}
	return g, nil
}

// String returns the version as given.
func (g Generic) String() string { return g.raw }

// Compare orders g and other as described on Generic.
func (g Generic) Compare(other Version) int {
	o, ok := other.(Generic)
	if !ok {
		return crossCompare(g, other)
	}
	return cmpIdents(g.parts, o.parts, 1)
}
