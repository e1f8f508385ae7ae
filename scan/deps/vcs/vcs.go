// Package vcs reads version-control references out of dependency
// specifications — the repository and the commit a package is pinned to —
// and spells repository URLs one way, so that lockfiles and OSV GIT ranges
// can be compared.
package vcs

import "strings"

// Ref reads the repository and the commit of a requirement pinned to a
// commit of a version-control repository, from the forms the parsers keep
// in Spec: pip's "git+https://host/org/repo.git@SHA#egg=x", Poetry's and
// Pipenv's "URL@SHA", uv's and Cargo's "URL?rev=…#SHA", npm's
// "git+ssh://git@host/org/repo.git#SHA" and Yarn's "URL#commit=SHA". The
// repository comes back as NormalizeRepo gives it; both are "" unless
// the commit is a full 40-hex hash.
func Ref(spec string) (repo, commit string) {
	s := spec
	if i := strings.Index(s, "#"); i >= 0 {
		frag := s[i+1:]
		s = s[:i]
		frag = strings.TrimPrefix(frag, "commit=")
		if isCommit(frag) {
			commit = frag
		}
	}
	if i := strings.Index(s, "?"); i >= 0 {
		for kv := range strings.SplitSeq(s[i+1:], "&") {
			if v, ok := strings.CutPrefix(kv, "rev="); ok && commit == "" && isCommit(v) {
				commit = v
			}
		}
		s = s[:i]
	}
	scheme := strings.Index(s, "://")
	if scheme < 0 {
		return "", ""
	}
	if i := strings.LastIndex(s, "@"); i > scheme+3 && strings.Contains(s[scheme+3:i], "/") {
		if rev := s[i+1:]; isCommit(rev) && commit == "" {
			commit = rev
		}
		s = s[:i]
	}
	repo = NormalizeRepo(s)
	if commit == "" || repo == "" || strings.Contains(repo, "://") || strings.ContainsFunc(repo, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", ""
	}
	return repo, commit
}

// NormalizeRepo returns the form in which two spellings of one repository
// URL compare equal: no "git+" prefix, scheme, user information, ".git"
// suffix or trailing slash, the host in lower case, and an scp-like
// "git@host:org/repo" written as "host/org/repo". OSV GIT ranges and
// lockfiles spell repositories in all these ways.
func NormalizeRepo(u string) string {
	// Each step only removes or lower-cases, so a few rounds reach the
	// fixed point even for nested prefixes ("git+git+https://…").
	for range 16 {
		n := normalizeOnce(u)
		if n == u {
			return n
		}
		u = n
	}
	return ""
}

func normalizeOnce(u string) string {
	u = strings.TrimSpace(u)
	u = strings.TrimPrefix(u, "git+")
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if at := strings.Index(u, "@"); at >= 0 && strings.Contains(u[at:], ":") {
		u = strings.Replace(u[at+1:], ":", "/", 1) // git@host:org/repo
	}
	if slash := strings.Index(u, "/"); slash >= 0 {
		if at := strings.LastIndex(u[:slash], "@"); at >= 0 {
			u = u[at+1:]
		}
	} else if at := strings.LastIndex(u, "@"); at >= 0 {
		u = u[at+1:]
	}
	for {
		t := strings.TrimSuffix(strings.TrimRight(u, "/"), ".git")
		if t == u {
			break
		}
		u = t
	}
	host, path, _ := strings.Cut(u, "/")
	if path == "" {
		return strings.ToLower(host)
	}
	return strings.ToLower(host) + "/" + path
}

// isCommit reports a full 40-hex (SHA-1) commit hash in lower case.
func isCommit(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
