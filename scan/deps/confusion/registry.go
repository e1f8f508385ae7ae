package confusion

import (
	"strings"
)

// publicHosts are registries where anyone can publish a package under any
// free name, and the hosts that serve their files.
var publicHosts = map[string]bool{
	// npm
	"registry.npmjs.org": true, "registry.npmjs.com": true, "registry.yarnpkg.com": true,
	"registry.npmmirror.com": true, "registry.npm.taobao.org": true,
	// PyPI
	"pypi.org": true, "pypi.python.org": true, "files.pythonhosted.org": true, "test.pypi.org": true,
	"test-files.pythonhosted.org": true,
	// crates.io
	"crates.io": true, "static.crates.io": true, "index.crates.io": true,
	// Go
	"proxy.golang.org": true,
}

// Public reports whether the registry or index URL u (credentials may
// have been removed) is a public registry where anyone can publish a name:
// registry.npmjs.org, registry.yarnpkg.com, pypi.org and
// files.pythonhosted.org, crates.io and its index (including
// github.com/rust-lang/crates.io-index), proxy.golang.org, and the public
// mirrors of npm. Anything else, a host the organisation runs or not, is
// not public.
func Public(u string) bool {
	h, path := host(u)
	if h == "" {
		return false
	}
	if publicHosts[h] {
		return true
	}
	return h == "github.com" && strings.HasPrefix(strings.ToLower(path), "/rust-lang/crates.io-index")
}

// host returns the lower-case host (without user information or port) and
// the path of URL u; "" when u is not a URL.
func host(u string) (string, string) {
	i := strings.Index(u, "://")
	if i < 0 {
		return "", ""
	}
	rest := u[i+3:]
	path := ""
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest, path = rest[:j], rest[j:]
	}
	if j := strings.LastIndexByte(rest, '@'); j >= 0 {
		rest = rest[j+1:]
	}
	if strings.HasPrefix(rest, "[") { // an IPv6 literal
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			return strings.ToLower(rest[:j+1]), path
		}
		return "", ""
	}
	if j := strings.IndexByte(rest, ':'); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSuffix(strings.ToLower(rest), "."), path
}
