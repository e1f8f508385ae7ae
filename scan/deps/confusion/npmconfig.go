package confusion

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rampartsec/rampart/internal/smallfile"
	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

// maxConfigFile bounds the .npmrc, .yarnrc and .yarnrc.yml files read.
const maxConfigFile = 1 << 20

// maxScopes bounds the scope bindings kept from one configuration.
const maxScopes = 1024

// npmConfig is the registry configuration of an npm, pnpm or Yarn project,
// read from the .npmrc, .yarnrc (Yarn 1) and .yarnrc.yml (Yarn 2+) files
// next to its lockfile. Registry URLs have their credentials removed.
type npmConfig struct {
	// Registry is the default registry ("registry=" in .npmrc); "" when the
	// project does not set one, and the user's configuration decides
	// (registry.npmjs.org unless changed).
	Registry string
	// Scopes maps a scope, "@acme", to its registry ("@acme:registry=").
	Scopes map[string]string
	// Where says where each setting was read ("path:line"), keyed "" for
	// Registry and by scope otherwise.
	Where map[string]string
}

// registryFor returns the registry the configuration binds package name
// to and where that was set: the scope's registry, else the default one.
func (c *npmConfig) registryFor(name string) (registry, where string) {
	if scope, _, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		if r := c.Scopes[strings.ToLower(scope)]; r != "" {
			return r, c.Where[strings.ToLower(scope)]
		}
	}
	return c.Registry, c.Where[""]
}

// set records one setting: key "registry" or "@scope:registry".
func (c *npmConfig) set(key, value, where string) {
	value = strings.Trim(strings.TrimSpace(value), `"'`)
	if !strings.Contains(value, "://") {
		return // unset, or an environment reference the files do not resolve
	}
	value = lockfile.RedactURL(value)
	key = strings.ToLower(strings.Trim(strings.TrimSpace(key), `"'`))
	switch {
	case key == "registry":
		c.Registry = value
		c.Where[""] = where
	case strings.HasPrefix(key, "@") && strings.HasSuffix(key, ":registry"):
		scope := strings.TrimSuffix(key, ":registry")
		if _, ok := c.Scopes[scope]; !ok && len(c.Scopes) >= maxScopes {
			return
		}
		c.Scopes[scope] = value
		c.Where[scope] = where
	}
}

// readNPMConfig reads the registry settings of the project in dir. Files
// that are missing, unreadable or over the size limit are left out: the
// configuration then says less, and fewer names count as bound.
func readNPMConfig(dir string) *npmConfig {
	c := &npmConfig{Scopes: map[string]string{}, Where: map[string]string{}}
	for _, f := range []struct {
		name  string
		parse func(c *npmConfig, path string, data []byte)
	}{{".yarnrc", parseYarnrc}, {".npmrc", parseNpmrc}, {".yarnrc.yml", parseYarnrcYML}} {
		path := filepath.Join(dir, f.name)
		data, err := smallfile.Read(path, maxConfigFile)
		if err != nil {
			continue
		}
		f.parse(c, path, data)
	}
	return c
}

// lines yields the trimmed lines of data with their 1-based numbers,
// skipping blank lines and comments starting with one of the comment
// characters.
func lines(data []byte, comments string, fn func(n int, raw, line string)) {
	for i, raw := range strings.Split(string(data), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		t := strings.TrimSpace(raw)
		if t == "" || strings.ContainsRune(comments, rune(t[0])) {
			continue
		}
		fn(i+1, raw, t)
	}
}

// at names line n of path.
func at(path string, n int) string {
	return path + ":" + strconv.Itoa(n)
}

// parseNpmrc reads "registry=URL" and "@scope:registry=URL" lines of an
// .npmrc (an ini file; ";" and "#" start comments).
func parseNpmrc(c *npmConfig, path string, data []byte) {
	lines(data, "#;", func(n int, _, t string) {
		k, v, ok := strings.Cut(t, "=")
		if ok {
			c.set(k, v, at(path, n))
		}
	})
}

// parseYarnrc reads `registry "URL"` and `"@scope:registry" "URL"` lines
// of a Yarn 1 .yarnrc.
func parseYarnrc(c *npmConfig, path string, data []byte) {
	lines(data, "#", func(n int, _, t string) {
		var k, v string
		if strings.HasPrefix(t, `"`) {
			end := strings.IndexByte(t[1:], '"')
			if end < 0 {
				return
			}
			k, v = t[1:end+1], t[end+2:]
		} else {
			var ok bool
			if k, v, ok = strings.Cut(t, " "); !ok {
				return
			}
		}
		c.set(k, v, at(path, n))
	})
}

// parseYarnrcYML reads npmRegistryServer at the top level and under
// npmScopes.<scope> of a Yarn 2+ .yarnrc.yml, by indentation: the few keys
// needed do not call for a YAML parser.
func parseYarnrcYML(c *npmConfig, path string, data []byte) {
	inScopes := false
	scope, scopeIndent := "", -1
	lines(data, "#", func(n int, raw, t string) {
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			return
		}
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		v = strings.TrimSpace(v)
		switch {
		case indent == 0:
			inScopes, scope, scopeIndent = k == "npmScopes", "", -1
			if k == "npmRegistryServer" {
				c.set("registry", v, at(path, n))
			}
		case inScopes && (scopeIndent < 0 || indent <= scopeIndent) && v == "":
			scope, scopeIndent = "@"+strings.TrimPrefix(k, "@"), indent
		case inScopes && scope != "" && indent > scopeIndent && k == "npmRegistryServer":
			c.set(scope+":registry", v, at(path, n))
		}
	})
}
