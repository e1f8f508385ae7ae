package lockfile

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

var reTOMLLine = regexp.MustCompile(`^toml: line ([0-9]{1,9})`)

// decodeTOML decodes data into v, turning a parse error into a
// deps.malformed finding on the line the decoder names. It reports whether
// decoding succeeded.
func (p *parser) decodeTOML(data []byte, v any) (ok bool) {
	defer func() {
		// The TOML decoder is third-party code fed hostile input: a panic in
		// it becomes a finding, not a crash of the scan.
		if r := recover(); r != nil {
			p.malformed(p.path, 0, "", fmt.Errorf("TOML decoder failed: %v", r))
			ok = false
		}
	}()
	if _, err := toml.Decode(string(data), v); err != nil {
		var pe toml.ParseError
		line := 0
		msg := err
		if errors.As(err, &pe) {
			line = pe.Position.Line
			msg = errors.New(pe.Message)
		} else if m := reTOMLLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1]) // a type error names its line only in the text
		}
		p.malformed(p.path, line, "", fmt.Errorf("TOML: %w", msg))
		return false
	}
	return true
}

// tomlLines finds the lines of TOML declarations without a second parser:
// the headers of [[package]] array tables in order, and the first line where
// a key or a quoted string appears inside a table.
type tomlLines struct {
	lines  []string
	tables []tomlTable
	index  map[string]*tableIndex
}

type tomlTable struct {
	header string // "[project]", "[[package]]"
	line   int    // 1-based line of the header
	end    int    // 1-based line of the next header, or len+1
}

func newTOMLLines(data []byte) *tomlLines {
	t := &tomlLines{lines: strings.Split(string(data), "\n")}
	for i, l := range t.lines {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "[") {
			if j := strings.LastIndexByte(s, ']'); j > 0 {
				h := strings.Join(strings.Fields(s[:j+1]), "")
				if n := len(t.tables); n > 0 {
					t.tables[n-1].end = i + 1
				}
				t.tables = append(t.tables, tomlTable{header: h, line: i + 1, end: len(t.lines) + 1})
			}
		}
	}
	return t
}

// arrayLines returns the header lines of the [[name]] array tables, in order.
func (t *tomlLines) arrayLines(name string) []int {
	var out []int
	h := "[[" + name + "]]"
	for _, tb := range t.tables {
		if tb.header == h {
			out = append(out, tb.line)
		}
	}
	return out
}

// keyLine returns the line of `key =` in table header (e.g. "[project]"),
// or, when quoted is set, the first line in the table that holds key as a
// quoted string; zero if not found. Each table is indexed once.
func (t *tomlLines) keyLine(header, key string, quoted bool) int {
	if t.index == nil {
		t.index = map[string]*tableIndex{}
	}
	ti := t.index[header]
	if ti == nil {
		ti = &tableIndex{keys: map[string]int{}, strs: map[string]int{}}
		t.index[header] = ti
		for _, tb := range t.tables {
			if tb.header != header {
				continue
			}
			for i := tb.line; i < tb.end-1 && i < len(t.lines); i++ {
				s := strings.TrimSpace(t.lines[i])
				if k, _, ok := strings.Cut(s, "="); ok {
					k = strings.Trim(strings.TrimSpace(k), `"'`)
					if _, seen := ti.keys[k]; !seen {
						ti.keys[k] = i + 1
					}
				}
				for _, q := range quotedStrings(s) {
					if _, seen := ti.strs[q]; !seen {
						ti.strs[q] = i + 1
					}
				}
			}
		}
	}
	if quoted {
		return ti.strs[key]
	}
	return ti.keys[key]
}

// tableIndex maps the keys and quoted strings of one table to their lines.
type tableIndex struct {
	keys, strs map[string]int
}

// quotedStrings returns the "…" and '…' strings of a line, without
// unescaping.
func quotedStrings(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		q := s[i]
		if q == '#' {
			break
		}
		if q != '"' && q != '\'' {
			continue
		}
		j := i + 1
		for j < len(s) && s[j] != q {
			if s[j] == '\\' && q == '"' {
				j++
			}
			j++
		}
		if j >= len(s) {
			break
		}
		out = append(out, s[i+1:j])
		i = j
	}
	return out
}

// lineOfArray maps the i-th element of the array at line headers to a line,
// when the counts agree.
func lineOfArray(lines []int, i int) int {
	if i < len(lines) {
		return lines[i]
	}
	return 0
}
