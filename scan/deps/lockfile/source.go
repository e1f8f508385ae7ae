package lockfile

import (
	"regexp"
	"strings"
)

// PyPIIndex is the index pip, Poetry, Pipenv and uv use when nothing else
// is configured.
const PyPIIndex = "https://pypi.org/simple"

// maxIndexes bounds the indexes recorded for one requirements tree or
// environment.
const maxIndexes = 64

// RedactURL returns u without the credentials it may embed: the user
// information of "scheme://user:token@host/…" becomes "REDACTED" (a bare
// "git" user, as in git+ssh URLs, is kept), and the query and fragment of
// the URL are dropped, since tokens also travel there. Strings that are not
// URLs are returned unchanged.
func RedactURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	if j := strings.IndexAny(u[i:], "?#"); j >= 0 {
		u = u[:i+j]
	}
	return redactUserinfo(u)
}

// reUserinfo matches the user information of a URL in free text, up to
// the last "@" of the authority (an unescaped "@" in a password included).
var reUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)([^/\s?#]+)@`)

// redactUserinfo replaces the user information of every URL in s, keeping
// the rest of s (query and fragment included).
func redactUserinfo(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	return reUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := reUserinfo.FindStringSubmatch(m)
		if sub[2] == "git" {
			return m
		}
		return sub[1] + "REDACTED@"
	})
}

// npmRegistry returns the registry a tarball URL of package name was
// downloaded from ("https://registry.npmjs.org/" for
// "https://registry.npmjs.org/a/-/a-1.0.0.tgz"), credentials removed; ""
// for anything but an http(s) URL.
func npmRegistry(name, tarball string) string {
	if !strings.HasPrefix(tarball, "https://") && !strings.HasPrefix(tarball, "http://") {
		return ""
	}
	u := RedactURL(tarball)
	scheme := strings.Index(u, "://") + 3
	slash := strings.IndexByte(u[scheme:], '/')
	if slash < 0 {
		return u + "/"
	}
	hostEnd := scheme + slash
	path := u[hostEnd:]
	for _, n := range []string{name, strings.Replace(name, "/", "%2f", 1), strings.Replace(name, "/", "%2F", 1)} {
		if n == "" {
			continue
		}
		if i := strings.Index(path, "/"+n+"/-/"); i >= 0 {
			return u[:hostEnd+i+1]
		}
	}
	return u[:hostEnd+1]
}

// appendIndex appends an index URL (credentials removed) unless it is
// already listed or the list is full.
func appendIndex(list []string, u string) []string {
	u = strings.TrimSpace(u)
	if u == "" || len(list) >= maxIndexes {
		return list
	}
	u = RedactURL(u)
	for _, x := range list {
		if x == u {
			return list
		}
	}
	return append(list, u)
}
