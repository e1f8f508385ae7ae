// Package regrows converts the model registry's records to and from the
// columns both store drivers keep them in, and checks them before they
// are written.
package regrows

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/artifact/registry"
)

// Columns are a version's JSON columns.
type Columns struct {
	Files, Signature, Scan, Lineage string
}

// Encode returns v's JSON columns, after checking the fields a store
// relies on.
func Encode(v *registry.Version) (Columns, error) {
	if v == nil || v.Name == "" || v.Version == "" || v.Digest == "" || v.PushedBy == "" {
		return Columns{}, errors.New("model version: name, version, digest and pusher are required")
	}
	files := v.Files
	if files == nil {
		files = []registry.File{}
	}
	lineage := v.Lineage
	if lineage == nil {
		lineage = []string{}
	}
	var c Columns
	for _, f := range []struct {
		dst *string
		v   any
	}{{&c.Files, files}, {&c.Signature, v.Signature}, {&c.Scan, v.Scan}, {&c.Lineage, lineage}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return Columns{}, fmt.Errorf("model version %s: %w", v.Target(), err)
		}
		*f.dst = string(b)
	}
	return c, nil
}

// Decode fills v's fields from its JSON columns.
func Decode(v *registry.Version, c Columns) error {
	for _, f := range []struct {
		src string
		dst any
	}{{c.Files, &v.Files}, {c.Signature, &v.Signature}, {c.Scan, &v.Scan}, {c.Lineage, &v.Lineage}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return fmt.Errorf("model version %s: %w", v.Target(), err)
		}
	}
	return nil
}

// CheckAction checks the fields a store relies on.
func CheckAction(a *registry.Action) error {
	if a == nil || a.ID == "" || a.Kind == "" || a.Name == "" || a.Version == "" || a.Actor == "" || len(a.Statement) == 0 {
		return errors.New("model action: id, kind, name, version, actor and statement are required")
	}
	return nil
}
