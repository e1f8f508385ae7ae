package finding

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// TextOptions tune the terminal table.
type TextOptions struct {
	// Color wraps severities in ANSI colours. Off by default: turn it on
	// only when writing to a terminal that wants it.
	Color bool
	// MaxExcerpt is the widest an excerpt may be, in terminal columns,
	// before it is cut with "…"; zero means DefaultMaxExcerpt.
	MaxExcerpt int
}

// DefaultMaxExcerpt is the default width of the excerpt column, in terminal
// columns.
const DefaultMaxExcerpt = 40

// Limits of the other columns of the terminal table, in terminal columns.
const (
	maxRuleWidth     = 40
	maxLocationWidth = 48
	maxTitleWidth    = 60
)

var textHeader = [5]string{"SEVERITY", "RULE", "LOCATION", "EXCERPT", "TITLE"}

var ansiSeverity = [Critical + 1]string{
	Info:     "\x1b[2m",    // dim
	Low:      "\x1b[36m",   // cyan
	Medium:   "\x1b[33m",   // yellow
	High:     "\x1b[31m",   // red
	Critical: "\x1b[1;35m", // bold magenta
}

const ansiReset = "\x1b[0m"

// WriteText writes r as a table for terminals: one row per finding with
// severity, rule id, location, excerpt and title, in report order, then a
// line counting the findings by severity. Every string is made visible
// first (control characters, bidirectional overrides and invalid UTF-8 are
// escaped), so a hostile excerpt or path cannot drive the terminal.
func WriteText(w io.Writer, r *Report, opts TextOptions) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("write table report: %w", err)
	}
	maxExcerpt := opts.MaxExcerpt
	if maxExcerpt <= 0 {
		maxExcerpt = DefaultMaxExcerpt
	}
	bw := bufio.NewWriter(w)
	if len(r.Findings) == 0 {
		bw.WriteString("No findings.\n")
		return flush(bw, "table")
	}

	fs := sorted(r)
	rows := make([][5]string, len(fs))
	var widths [5]int
	for i, h := range textHeader {
		widths[i] = displayWidth(h)
	}
	for i, f := range fs {
		row := [5]string{
			f.Severity.String(),
			truncate(visible(f.RuleID), maxRuleWidth),
			truncateLeft(visible(f.Location.String()), maxLocationWidth),
			truncate(visible(f.Excerpt), maxExcerpt),
			truncate(visible(f.Title), maxTitleWidth),
		}
		for c := range row {
			widths[c] = max(widths[c], displayWidth(row[c]))
		}
		rows[i] = row
	}

	writeRow(bw, textHeader, &widths, "")
	for i, row := range rows {
		color := ""
		if opts.Color {
			color = ansiSeverity[fs[i].Severity]
		}
		writeRow(bw, row, &widths, color)
	}
	bw.WriteByte('\n')
	bw.WriteString(summaryLine(r.Summary()))
	bw.WriteByte('\n')
	return flush(bw, "table")
}

// writeRow writes cells padded to their column widths, two spaces apart,
// with no trailing blanks. color, when set, wraps the first cell.
func writeRow(bw *bufio.Writer, cells [5]string, widths *[5]int, color string) {
	last := len(cells) - 1
	for last > 0 && cells[last] == "" {
		last--
	}
	for c := 0; c <= last; c++ {
		if c > 0 {
			bw.WriteString("  ")
		}
		if c == 0 && color != "" {
			bw.WriteString(color)
			bw.WriteString(cells[c])
			bw.WriteString(ansiReset)
		} else {
			bw.WriteString(cells[c])
		}
		if c < last {
			for n := widths[c] - displayWidth(cells[c]); n > 0; n-- {
				bw.WriteByte(' ')
			}
		}
	}
	bw.WriteByte('\n')
}

// summaryLine reads e.g. "3 findings: 1 critical, 1 high, 0 medium, 1 low, 0 info".
func summaryLine(s Summary) string {
	var b strings.Builder
	noun := "findings"
	if s.Total == 1 {
		noun = "finding"
	}
	fmt.Fprintf(&b, "%d %s:", s.Total, noun)
	for sev := Critical; sev >= Info; sev-- {
		if sev != Critical {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %d %s", s.BySeverity[sev], sev)
	}
	return b.String()
}

func flush(bw *bufio.Writer, format string) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}
