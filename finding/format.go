package finding

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format names a report format.
type Format int

// The report formats.
const (
	// FormatTable is a plain-text table for terminals.
	FormatTable Format = iota
	// FormatJSON is Rampart's own JSON document (see WriteJSON).
	FormatJSON
	// FormatSARIF is SARIF 2.1.0, as GitHub code scanning accepts it.
	FormatSARIF
	// FormatHTML is one self-contained HTML page.
	FormatHTML
)

var formatNames = [...]string{"table", "json", "sarif", "html"}

// FormatNames lists the names ParseFormat accepts, besides the alias "text".
func FormatNames() []string { return slices.Clone(formatNames[:]) }

// String returns the format's name, e.g. "sarif".
func (f Format) String() string {
	if f < FormatTable || f > FormatHTML {
		return fmt.Sprintf("format(%d)", int(f))
	}
	return formatNames[f]
}

// ParseFormat parses a format name case-insensitively: "table" (or "text"),
// "json", "sarif" or "html".
func ParseFormat(name string) (Format, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "text" {
		return FormatTable, nil
	}
	for i, s := range formatNames {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown report format %q (want one of %s, or text)", name, strings.Join(formatNames[:], ", "))
}

// MarshalText encodes f as its name.
func (f Format) MarshalText() ([]byte, error) {
	if f < FormatTable || f > FormatHTML {
		return nil, fmt.Errorf("invalid report format %d", int(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText decodes a format name (see ParseFormat).
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Write renders r to w in format f with each format's default options. It
// validates the report first (see Report.Validate) and writes nothing when
// the report is invalid. The findings are listed in report order (see
// Compare); r itself is not modified.
func Write(w io.Writer, f Format, r *Report) error {
	switch f {
	case FormatTable:
		return WriteText(w, r, TextOptions{})
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatSARIF:
		return WriteSARIF(w, r)
	case FormatHTML:
		return WriteHTML(w, r)
	}
	return fmt.Errorf("write report: unknown format %d", int(f))
}
