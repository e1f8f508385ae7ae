package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultName is the name errors use for the embedded default.
const DefaultName = "default.yaml"

// MaxFileSize bounds a configuration file.
const MaxFileSize = 4 << 20

// ParseOptions tunes ParseWithOptions.
type ParseOptions struct {
	// Env looks up ${VAR} references; nil means os.LookupEnv.
	Env func(name string) (value string, ok bool)
	// ValidateOptions tunes validation.
	ValidateOptions
}

// DefaultYAML returns the embedded default configuration file as it is,
// comments included (`rampart config default` prints it).
func DefaultYAML() []byte {
	return append([]byte(nil), defaultYAML...)
}

// Default parses the embedded default configuration, interpolating
// ${VAR} references from the process environment. It is what `rampart
// serve` runs when no configuration file is given.
func Default() (*Config, error) {
	return ParseWithOptions(DefaultName, defaultYAML, ParseOptions{})
}

// Load reads, interpolates, decodes, completes with defaults and validates
// the configuration file at path, with variables from the process
// environment and detector types from detect.Default. An invalid file gives
// an ErrorList naming the file, line and key of every problem.
func Load(path string) (*Config, error) {
	return LoadWithOptions(path, ParseOptions{})
}

// LoadWithOptions is Load with the options of ParseWithOptions, for
// example to check detector options with the detectors' own factories.
func LoadWithOptions(path string, opts ParseOptions) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load config: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("load config: %s is larger than %s", path, ByteSize(MaxFileSize))
	}
	return ParseWithOptions(path, data, opts)
}

// Parse is Load for a configuration already in memory: name is what errors
// call the file, env looks up ${VAR} references (nil means os.LookupEnv).
func Parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	return ParseWithOptions(name, data, ParseOptions{Env: env})
}

// ParseWithOptions is Parse with every option.
//
// The steps: parse the YAML; decode it strictly into a Config, expanding
// ${VAR} references in scalar values; apply defaults (ApplyDefaults);
// validate. Errors from decoding and validation are reported together,
// sorted by line; a YAML syntax error stops at the first.
func ParseWithOptions(name string, data []byte, opts ParseOptions) (*Config, error) {
	env := opts.Env
	if env == nil {
		env = os.LookupEnv
	}
	errs := &errorSet{file: name}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if !utf8.Valid(data) {
		errs.add(&Error{Line: invalidUTF8Line(data), Msg: "the file is not valid UTF-8"})
		return nil, errs.result()
	}
	doc, err := parseYAML(data)
	if err != nil {
		errs.add(syntaxError(err))
		return nil, errs.result()
	}
	d := newDecoder(errs, env)
	c := new(Config)
	if doc != nil {
		d.collectAnchors(doc, 0)
		d.decode(reflect.ValueOf(c).Elem(), doc, "", 0)
	}
	if d.tooLarge {
		return nil, errs.result()
	}
	c.ApplyDefaults()
	v := &validator{errs: errs, pos: d.pos, interpolated: d.interpolated, skip: d.errPaths}
	v.validate(c, opts.ValidateOptions)
	if err := errs.result(); err != nil {
		return nil, err
	}
	return c, nil
}

// invalidUTF8Line is the line of the first byte that is not UTF-8.
func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

// parseYAML parses one YAML document and returns its body (nil for an
// empty document).
func parseYAML(data []byte) (body ast.Node, err error) {
	defer func() {
		// The parser is third-party code running on untrusted input; a
		// bug in it must give an error, not bring the process down.
		if r := recover(); r != nil {
			body, err = nil, fmt.Errorf("YAML parser failed on this input: %v", r)
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, err
	}
	var docs []ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, isDirective := doc.Body.(*ast.DirectiveNode); isDirective {
			continue
		}
		docs = append(docs, doc.Body)
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
		return docs[0], nil
	}
	line, _ := nodePos(docs[1])
	return nil, &Error{Line: line, Msg: "the file holds more than one YAML document; want one"}
}

// syntaxError converts a parser error to an Error with its position.
func syntaxError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	line, col := 0, 0
	if te, ok := err.(interface{ GetMessage() string }); ok {
		msg = te.GetMessage()
	}
	if tk, ok := err.(interface{ GetToken() *token.Token }); ok {
		line, col = tokenPos(tk.GetToken())
	}
	msg = strings.TrimSpace(msg)
	return &Error{Line: line, Column: col, Msg: "invalid YAML: " + msg}
}
