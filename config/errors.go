package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file. It never contains the value
// of a secret.
type Error struct {
	// File is the name the configuration was loaded from.
	File string
	// Line and Column locate the problem (1-based); 0 when the key is not in
	// the file (a missing key, or a configuration built in code).
	Line, Column int
	// Path is the key path, e.g. "policies[0].input[1].action"; empty for
	// errors about the file as a whole (YAML syntax).
	Path string
	// Msg says what is wrong and, where it can, what to write instead.
	Msg string
}

// Error formats the error as "file:line: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.File != "" || e.Line > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a configuration, sorted by line.
// Load, Parse and Validate return one (as an error) when the configuration
// is invalid; use errors.As to get at the individual errors.
type ErrorList []*Error

// Error joins the errors, one a line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// maxErrors caps the errors reported for one file; past it, one more error
// says how many were left out.
const maxErrors = 50

// errorSet collects errors while decoding and validating.
type errorSet struct {
	file string
	list []*Error
}

func (s *errorSet) add(e *Error) {
	e.File = s.file
	s.list = append(s.list, e)
}

// result sorts the errors by position (errors without a line last, in the
// order they were found), caps them and returns them as an error, or nil.
func (s *errorSet) result() error {
	if len(s.list) == 0 {
		return nil
	}
	l := make(ErrorList, len(s.list))
	copy(l, s.list)
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if len(l) > maxErrors {
		more := len(l) - maxErrors
		l = append(l[:maxErrors:maxErrors], &Error{File: s.file, Msg: fmt.Sprintf("too many errors: %d more not shown", more)})
	}
	return l
}
