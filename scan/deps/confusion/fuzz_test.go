package confusion

import (
	"strings"
	"testing"
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
		check := func(u string) {
			if !strings.Contains(u, "://") {
				t.Fatalf("registry %q is not a URL", u)
			}
			h, _ := host(u)
			if i := strings.Index(u, "://"); strings.Contains(u[i+3:], "@") && !strings.Contains(u, "REDACTED@") && !strings.Contains(u, "://git@") && h != "" {
				// "@" after the host is a path character, not user information.
				if auth := u[i+3:]; strings.IndexByte(auth, '@') < strings.IndexAny(auth+"/", "/") {
					t.Fatalf("registry %q keeps its credentials", u)
				}
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
