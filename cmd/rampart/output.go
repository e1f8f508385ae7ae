package main

import (
	"encoding/json"
	"io"

	"github.com/rampartsec/rampart/internal/smallfile"
)

// writeJSON writes v as indented JSON, with <, > and & as they are.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// readBounded reads a small file (a key, a signature, a report),
// refusing one larger than limit bytes.
func readBounded(path string, limit int64) ([]byte, error) { return smallfile.Read(path, limit) }
