package confusion

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

// FuzzNPMConfig feeds the .npmrc, .yarnrc and .yarnrc.yml readers the same
// bytes and checks that they never panic, keep what they read bounded, and
// keep every registry they record free of credentials.
func FuzzNPMConfig(f *testing.F) {
	for _, s := range []string{
		"registry=https://a.example/\n@acme:registry=https://u:p@b.example/\n; c\n# c\n",
		"\"@acme:registry\" \"https://c.example/\"\nregistry \"https://d.example/\"\n",
		"npmRegistryServer: \"https://e.example\"\nnpmScopes:\n  acme:\n    npmRegistryServer: https://t@f.example\n",
		"npmScopes:\n\tx:\n\t\tnpmRegistryServer:https://g@h@i/\n=\n:\n\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &npmConfig{Scopes: map[string]string{}, Where: map[string]string{}}
		parseNpmrc(c, ".npmrc", data)
		parseYarnrc(c, ".yarnrc", data)
		parseYarnrcYML(c, ".yarnrc.yml", data)
		if len(c.Scopes) > maxScopes {
			t.Fatalf("%d scopes", len(c.Scopes))
		}
		// Every registry kept is a URL already stripped of credentials.
		check := func(u string) {
			if !strings.Contains(u, "://") || lockfile.RedactURL(u) != u {
				t.Fatalf("registry %q is not a redacted URL", u)
			}
		}
		if c.Registry != "" {
			check(c.Registry)
		}
		for _, r := range c.Scopes {
			check(r)
		}
		registry, _ := c.registryFor("@acme/x")
		_ = Public(registry)
	})
}
