package config

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Scalar syntax: the YAML 1.2 core schema, with "_" digit separators in
// integers as a convenience (1_000_000).
var (
	reInt   = regexp.MustCompile(`^[-+]?(?:[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+)$`)
	reFloat = regexp.MustCompile(`^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$`)
)

func parseBool(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// parseInt parses an integer; an integral number such as 1e6 is accepted.
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if reInt.MatchString(s) {
		neg := false
		body := s
		if body[0] == '+' || body[0] == '-' {
			neg = body[0] == '-'
			body = body[1:]
		}
		base := 10
		switch {
		case strings.HasPrefix(body, "0x"):
			base, body = 16, body[2:]
		case strings.HasPrefix(body, "0o"):
			base, body = 8, body[2:]
		}
		body = strings.ReplaceAll(body, "_", "")
		u, err := strconv.ParseUint(body, base, 64)
		if err != nil {
			return 0, false
		}
		if neg {
			if u > 1<<63 {
				return 0, false
			}
			return -int64(u), true
		}
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	if f, ok := parseFloat(s); ok && f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f), true
	}
	return 0, false
}

func parseFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1), true
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1), true
	case ".nan", ".NaN", ".NAN":
		return math.NaN(), true
	}
	if !reFloat.MatchString(s) {
		if i, ok := parseIntOnly(s); ok {
			return float64(i), true
		}
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// parseIntOnly parses the integer forms without the float fallback.
func parseIntOnly(s string) (int64, bool) {
	if !reInt.MatchString(s) {
		return 0, false
	}
	return parseInt(s)
}

// inferPlain types a plain scalar by the YAML 1.2 core schema.
func inferPlain(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	}
	if b, ok := parseBool(s); ok && s == strings.TrimSpace(s) {
		return b
	}
	if reInt.MatchString(s) {
		if i, ok := parseInt(s); ok {
			return int(i)
		}
	}
	if f, ok := parseFloat(s); ok && s == strings.TrimSpace(s) {
		return f
	}
	return s
}
