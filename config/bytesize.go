package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
)

var sizeUnits = []struct {
	name string
	mult int64
}{
	// Longest names first so that "KiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// errSizeSyntax is wrapped by every ParseByteSize syntax error.
var errSizeSyntax = errors.New(`want a size such as 4194304, "512KiB", "4MiB", "1GiB" or "4MB"`)

// ParseByteSize parses a non-negative size: a plain number of bytes
// ("4194304", "1_048_576") or a number with a unit. Binary units are KiB,
// MiB, GiB and TiB (powers of 1024); decimal units are B, KB, MB, GB and TB
// (powers of 1000). Units are case-insensitive, a space may separate number
// and unit, and a fraction is allowed when the result is a whole number of
// bytes ("1.5MiB").
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	if t == "" || len(t) > 64 {
		return 0, errSizeSyntax
	}
	lower := strings.ToLower(t)
	mult := int64(1)
	num := lower
	for _, u := range sizeUnits {
		if strings.HasSuffix(lower, u.name) {
			mult = u.mult
			num = strings.TrimSpace(lower[:len(lower)-len(u.name)])
			break
		}
	}
	if num == "" || num[0] == '+' {
		return 0, errSizeSyntax
	}
	if num[0] == '-' {
		return 0, errors.New("size must not be negative")
	}
	for _, c := range num {
		if (c < '0' || c > '9') && c != '.' && c != '_' {
			return 0, errSizeSyntax
		}
	}
	digits := strings.ReplaceAll(num, "_", "")
	if digits == "" || digits == "." {
		return 0, errSizeSyntax
	}
	if !strings.Contains(digits, ".") {
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("size %s is too large", t)
		}
		return ByteSize(n * mult), nil
	}
	// A fraction: compute exactly, (int.frac × mult) must be whole.
	intPart, frac, _ := strings.Cut(digits, ".")
	if strings.Contains(frac, ".") {
		return 0, errSizeSyntax
	}
	r, ok := new(big.Rat).SetString("0" + intPart + "." + frac + "0")
	if !ok {
		return 0, errSizeSyntax
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("size %s is not a whole number of bytes", t)
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, fmt.Errorf("size %s is too large", t)
	}
	return ByteSize(n.Int64()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText implements encoding.TextMarshaler with String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// String formats the size with the largest unit that divides it exactly
// ("4MiB", "64MB", "1000KiB"), or as a plain number of bytes. ParseByteSize
// reads every result back.
func (b ByteSize) String() string {
	if b <= 0 {
		return strconv.FormatInt(int64(b), 10)
	}
	for _, u := range []struct {
		name string
		mult ByteSize
	}{{"TiB", TiB}, {"TB", 1e12}, {"GiB", GiB}, {"GB", 1e9}, {"MiB", MiB}, {"MB", 1e6}, {"KiB", KiB}, {"KB", 1e3}} {
		if b%u.mult == 0 {
			return strconv.FormatInt(int64(b/u.mult), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}
