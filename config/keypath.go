package config

import (
	"strconv"
	"strings"
)

// refList formats variable names as "${A}" or "${A}, ${B}".
func refList(names []string) string {
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = "${" + n + "}"
	}
	return strings.Join(refs, ", ")
}

// quoteShort quotes s for a message, shortened to 64 bytes.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// joinKey appends a mapping key to a key path: "a.b", or a["b.c"] for keys
// that are not plain words.
func joinKey(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends a list index to a key path.
func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// suggest returns the known name closest to key, if it is close enough to
// be a typo.
func suggest(key string, names []string) string {
	best, bestDist := "", 3
	lk := strings.ToLower(key)
	for _, n := range names {
		if dist := editDistance(lk, n); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	if best != "" && bestDist*3 > len(best) {
		// A short key with more than a third of it wrong is no typo.
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance, capped for long inputs.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parentPath drops the last element of a key path: "a.b[0]" → "a.b",
// "a.b" → "a", `a["x.y"]` → "a".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		// Find the "[" that opens the last element, skipping quoted text.
		if i := strings.LastIndex(p, `["`); i >= 0 && strings.HasSuffix(p, `"]`) {
			return p[:i]
		}
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}
