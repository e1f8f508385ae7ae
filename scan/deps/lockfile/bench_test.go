package lockfile

import (
	"fmt"
	"strings"
	"testing"
)

// syntheticPackageLock returns a package-lock.json v3 with n packages.
func syntheticPackageLock(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x","dependencies":{"p0":"^1.0.0"}}`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ",\n    \"node_modules/p%d\": {\n      \"version\": \"1.0.%d\",\n      \"resolved\": \"https://registry.npmjs.org/p%d/-/p%d-1.0.%d.tgz\",\n      \"integrity\": \"sha512-%064d\"\n    }", i, i, i, i, i, i)
	}
	b.WriteString("}}\n")
	return []byte(b.String())
}

func BenchmarkPackageLock(b *testing.B) {
	data := syntheticPackageLock(20_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		pkgs, _, err := Parse("package-lock.json", data)
		if err != nil || len(pkgs) != 20_000 {
			b.Fatalf("%d packages, %v", len(pkgs), err)
		}
	}
}

func BenchmarkRequirements(b *testing.B) {
	var s strings.Builder
	for i := 0; i < 20_000; i++ {
		fmt.Fprintf(&s, "pkg-%d==1.%d.0 ; python_version >= \"3.9\" \\\n    --hash=sha256:%064d\n", i, i, i)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		pkgs, _, err := Parse("requirements.txt", data)
		if err != nil || len(pkgs) != 20_000 {
			b.Fatalf("%d packages, %v", len(pkgs), err)
		}
	}
}

// TestLargeLockfileLinear guards against a lookup per package that scans
// the file: 30 000 entries must parse in well under a minute.
func TestLargeLockfileLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	data := syntheticPackageLock(30_000)
	pkgs, fs, err := Parse("package-lock.json", data)
	if err != nil || len(pkgs) != 30_000 || len(fs) != 0 {
		t.Fatalf("%d packages, %d findings, %v", len(pkgs), len(fs), err)
	}
	for _, p := range pkgs {
		var i int
		if _, err := fmt.Sscanf(p.Name, "p%d", &i); err != nil || p.Line != 2+5*i {
			t.Fatalf("package %s at line %d, want %d", p.Name, p.Line, 2+5*i)
		}
	}
}

// syntheticGraphLock returns a package-lock.json v3 with n hoisted packages,
// each depending on three others, and n/10 nested copies that shadow a
// hoisted package for their parent: the shape of a real large lockfile.
func syntheticGraphLock(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x","dependencies":{"p0":"^1.0.0","p1":"^1.0.0"}}`)
	entry := func(path, name string, version string, deps []int) {
		fmt.Fprintf(&b, ",\n    %q: {\n      \"version\": %q,\n      \"resolved\": \"https://registry.npmjs.org/%s/-/%s-%s.tgz\",\n      \"integrity\": \"sha512-%064d\"", path, version, name, name, version, len(path))
		if len(deps) > 0 {
			b.WriteString(",\n      \"dependencies\": {")
			for j, d := range deps {
				if j > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "\n        \"p%d\": \"^1.0.0\"", d)
			}
			b.WriteString("\n      }")
		}
		b.WriteString("\n    }")
	}
	for i := 0; i < n; i++ {
		entry(fmt.Sprintf("node_modules/p%d", i), fmt.Sprintf("p%d", i), fmt.Sprintf("1.0.%d", i),
			[]int{(i + 1) % n, (i * 7) % n, (i*13 + 5) % n})
		if i%10 == 0 {
			j := (i + 1) % n
			entry(fmt.Sprintf("node_modules/p%d/node_modules/p%d", i, j), fmt.Sprintf("p%d", j), "2.0.0", []int{(j + 2) % n})
		}
	}
	b.WriteString("}}\n")
	return []byte(b.String())
}

// BenchmarkPackageLockGraph parses a 5,500-entry package-lock.json whose
// entries record their dependencies.
func BenchmarkPackageLockGraph(b *testing.B) {
	data := syntheticGraphLock(5_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		pkgs, _, err := Parse("package-lock.json", data)
		if err != nil || len(pkgs) != 5_500 {
			b.Fatalf("%d packages, %v", len(pkgs), err)
		}
	}
}
