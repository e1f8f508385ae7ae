package auth

import (
	"strings"
	"time"

	"github.com/rampartsec/rampart/config"
)

// Principal kinds.
const (
	KindKey = "key"
	KindJWT = "jwt"
)

// Principal is an authenticated caller.
type Principal struct {
	// KeyID is the key's ID, or "jwt:" + the token's subject.
	KeyID string
	// Subject names the caller: the key's name, or the token's subject.
	Subject string
	// Group is the key group that policies and group limits apply to.
	Group string
	// Models and Routes the caller may use; empty means all. Entries may
	// contain "*", which matches any run of characters ("gpt-4o*").
	Models []string
	Routes []string
	// Limits are the key's own limits (zero fields inherit the group's and
	// the defaults'); always zero for JWTs.
	Limits config.LimitSet
	// Kind is KindKey or KindJWT.
	Kind string
	// ExpiresAt is when the credential stops working (zero: never).
	ExpiresAt time.Time
}

// AllowsModel reports whether the caller may use model.
func (p *Principal) AllowsModel(model string) bool { return allowed(p.Models, model) }

// AllowsRoute reports whether the caller may use route (a request path
// such as "/v1/chat/completions").
func (p *Principal) AllowsRoute(route string) bool { return allowed(p.Routes, route) }

func allowed(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, in which "*" matches any run of
// characters (including none) and every other character matches itself.
func Match(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	// Greedy matching with backtracking to the last star: linear in
	// practice and never worse than len(pattern)·len(s).
	var px, sx int
	star, next := -1, 0
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			c := pattern[px]
			if c == '*' {
				star, next = px, sx+1
				px++
				continue
			}
			if sx < len(s) && s[sx] == c {
				px++
				sx++
				continue
			}
		}
		if star >= 0 && next <= len(s) {
			px, sx = star+1, next
			next++
			continue
		}
		return false
	}
	return true
}
