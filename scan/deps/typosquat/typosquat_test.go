package typosquat

import "testing"

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		eco, name string
		want      string // popular name, "" for no match
		kind      string
	}{
		{"PyPI", "torch", "", ""},
		{"PyPI", "Scikit_Learn", "", ""}, // the popular name itself, spelled otherwise
		{"PyPI", "transfromers", "transformers", "edit"},
		{"PyPI", "tansformers", "transformers", "edit"},
		{"PyPI", "transformerss", "transformers", "edit"},
		{"PyPI", "requets", "requests", "edit"},
		{"PyPI", "scikitlearn", "scikit-learn", "separator"},
		{"PyPI", "huggingfacehub", "huggingface-hub", "separator"},
		{"PyPI", "langchian", "langchain", "edit"},
		{"PyPI", "0penai", "openai", "homoglyph"},
		{"PyPI", "pytorch-1ightning", "pytorch-lightning", "homoglyph"},
		{"PyPI", "python-openai", "openai", "affix"},
		{"PyPI", "anthropic-sdk", "anthropic", "affix"},
		{"PyPI", "torchh", "torch", "edit"},
		{"PyPI", "onnxx", "", ""}, // popular names under five bytes are not edit-matched
		{"PyPI", "rays", "", ""},
		{"PyPI", "flask-cors", "", ""}, // a real extension, not an affix of the list
		{"PyPI", "numpyro", "", ""},
		{"PyPI", "pandas-profiling", "", ""},
		{"PyPI", "some-internal-lib", "", ""},
		{"npm", "opneai", "openai", "edit"},
		{"npm", "@anthropic-ai/skd", "@anthropic-ai/sdk", "edit"},
		{"npm", "axios", "", ""},
		{"crates.io", "serde", "", ""},
	} {
		m, ok := Check(c.eco, c.name)
		if ok != (c.want != "") || m.Popular != c.want || m.Kind != c.kind {
			t.Errorf("Check(%s, %q) = %+v, %v; want %q %q", c.eco, c.name, m, ok, c.want, c.kind)
		}
	}
}

// TestPopularNotSquats: no popular name is reported as imitating another.
func TestPopularNotSquats(t *testing.T) {
	for eco, list := range popular {
		for n := range list {
			if normalise(eco, n) != n {
				t.Errorf("%s %q is not written normalised", eco, n)
			}
			if m, ok := Check(eco, n); ok {
				t.Errorf("%s %q matches %+v", eco, n, m)
			}
		}
	}
}

func TestOneEdit(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", false}, {"abc", "abd", true}, {"abc", "acb", true}, {"abc", "ab", true},
		{"abc", "xabc", true}, {"abc", "cba", false}, {"abcd", "ab", false}, {"", "a", true},
	} {
		if got := oneEdit(c.a, c.b); got != c.want {
			t.Errorf("oneEdit(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestPrivate(t *testing.T) {
	pats := []string{"acme-*", "@acme/*"}
	if !Private("PyPI", "Acme_Billing", pats) || !Private("npm", "@acme/ui", pats) || Private("PyPI", "numpy", pats) {
		t.Error("Private patterns")
	}
	if !PublicRegistry("https://files.pythonhosted.org/packages/x.whl") || PublicRegistry("https://pypi.acme.internal/simple/") {
		t.Error("PublicRegistry")
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("PyPI", "transfromers")
	f.Add("npm", "@anthropic-ai/skd")
	f.Fuzz(func(t *testing.T, eco, name string) {
		if m, ok := Check(eco, name); ok && (m.Popular == "" || m.Kind == "") {
			t.Fatalf("empty match %+v", m)
		}
		if oneEdit(name, eco) != oneEdit(eco, name) {
			t.Fatalf("oneEdit is not symmetric for %q, %q", name, eco)
		}
	})
}
