package iac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

// TestCorpus scans a realistic inference service (Kubernetes manifests
// rendered by Helm, a multi-stage Dockerfile, a compose file and a
// Terraform ML stack) and asserts exactly the planted problems above low.
func TestCorpus(t *testing.T) {
	var skipped []string
	fs, err := Scan(context.Background(), "testdata/inference-service", Options{
		OnSkip: func(p string, err error) { skipped = append(skipped, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"critical iac.compose.docker-socket docker-compose.yml:20",
		"critical iac.kube.model-server-exposed deploy/inference.yaml:56",
		"critical iac.terraform.gcs-public infra/vertex.tf:10",
		"critical iac.terraform.s3-public infra/main.tf:33",
		"high iac.compose.model-server-exposed docker-compose.yml:5",
		"high iac.compose.secret-env-literal docker-compose.yml:12",
		"high iac.dockerfile.curl-pipe-shell Dockerfile:9",
		"high iac.dockerfile.secret-in-env Dockerfile:18",
		"high iac.kube.host-network deploy/inference.yaml:77",
		"high iac.kube.host-path deploy/inference.yaml:47",
		"high iac.kube.privileged deploy/inference.yaml:82",
		"high iac.kube.run-as-root deploy/inference.yaml:83",
		"high iac.kube.secret-env-literal deploy/inference.yaml:30",
		"high iac.terraform.iam-wildcard infra/main.tf:96",
		"high iac.terraform.secret-variable-default infra/main.tf:14",
		"medium iac.compose.unpinned-image docker-compose.yml:18",
		"medium iac.dockerfile.add-from-url Dockerfile:20",
		"medium iac.dockerfile.root-user Dockerfile:16",
		"medium iac.kube.no-network-policy deploy/inference.yaml:2",
		"medium iac.kube.no-resource-limits deploy/inference.yaml:79",
		"medium iac.terraform.s3-unencrypted infra/main.tf:44",
		"medium iac.terraform.sagemaker-no-kms infra/main.tf:69",
		"medium iac.terraform.sagemaker-no-network-isolation infra/main.tf:60",
	}
	var got []string
	for _, f := range fs {
		if f.Severity > finding.Low {
			got = append(got, fmt.Sprintf("%s %s %s:%d", f.Severity, f.RuleID, f.Location.Path, f.Location.Line))
		}
		if strings.Contains(f.Location.Path, "node_modules") || strings.Contains(f.Location.Path, ".terraform") {
			t.Errorf("finding in a skipped folder: %s", f.Location)
		}
		if f.Layer != finding.LayerInfrastructure {
			t.Errorf("%s: layer %v", f.RuleID, f.Layer)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings above low:\ngot  %q\nwant %q", got, want)
	}
	if !slices.Equal(skipped, []string{"deploy/chart-template.yaml"}) {
		t.Errorf("skipped %q, want only the unrendered Helm template", skipped)
	}
	// No planted secret may appear anywhere in the findings.
	out, _ := json.Marshal(fs)
	for _, secret := range []string{"hf_aB3dE5", "sk-proj-Zq8", "hunter2-prod", "Sup3rS3cret"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("findings leak %q", secret)
		}
	}
}

// TestOffsets checks that a finding's offset points at its line.
func TestOffsets(t *testing.T) {
	root := "testdata/inference-service"
	fs, err := Scan(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		data, err := os.ReadFile(filepath.Join(root, f.Location.Path))
		if err != nil {
			t.Fatal(err)
		}
		off := int(f.Location.Offset)
		if off < 0 || off > len(data) {
			t.Errorf("%s %s: offset %d out of range", f.RuleID, f.Location, off)
			continue
		}
		if line := strings.Count(string(data[:off]), "\n") + 1; line != f.Location.Line {
			t.Errorf("%s %s: offset %d is on line %d", f.RuleID, f.Location, off, line)
		}
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name, data string
		want       Kind
	}{
		{"Dockerfile", "FROM a:1\n", KindDockerfile},
		{"build.dockerfile", "# c\nARG X=1\nFROM a:${X}\n", KindDockerfile},
		{"Containerfile", "RUN x\n", KindDockerfile}, // named: a Dockerfile even if malformed
		{"README", "FROM the start we planned\n", KindUnknown},
		{"k.yaml", "apiVersion: v1\nkind: ConfigMap\n", KindKubernetes},
		{"many.yml", "---\nfoo: 1\n---\napiVersion: v1\nkind: Secret\n", KindKubernetes},
		{"compose.yaml", "services:\n  a: {image: x}\n", KindCompose},
		{"values.yaml", "services:\n  - a\n", KindUnknown},
		{"ci.yml", "jobs: {}\n", KindUnknown},
		{"main.tf", "", KindTerraform},
		{"rendered.yaml", "---\n# Source: chart/templates/a.yaml\n---\n# Source: chart/templates/b.yaml\napiVersion: v1\nkind: Pod\n", KindKubernetes},
		{"objects", "apiVersion: v1\nkind: Pod\n", KindKubernetes},
	}
	for _, c := range cases {
		if got := Detect(c.name, []byte(c.data)); got != c.want {
			t.Errorf("Detect(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestScanFileErrors(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"main.tf", "resource \"a\" {\n  x = \n", "parse terraform"},
		{"k.yaml", "apiVersion: v1\nkind: [\n", "parse yaml"},
		{"Dockerfile", "# escape=x\nFROM a\n", "escape"},
	} {
		if _, err := ScanFile(c.name, []byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ScanFile(%q) error %v, want %q", c.name, err, c.want)
		}
	}
	if fs, err := ScanFile("notes.txt", []byte("hello")); err != nil || len(fs) != 0 {
		t.Errorf("unknown file: %v %v", fs, err)
	}
}

func TestScanLimitsAndContext(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM a\n"+strings.Repeat("# pad\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	fs, err := Scan(context.Background(), dir, Options{MaxFileSize: 64, OnSkip: func(p string, _ error) { skipped = append(skipped, p) }})
	if err != nil || len(fs) != 0 || !slices.Equal(skipped, []string{"Dockerfile"}) {
		t.Errorf("over-size file: findings %d, err %v, skipped %q", len(fs), err, skipped)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan: %v", err)
	}
	if _, err := Scan(context.Background(), filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("missing root: no error")
	}
}

// TestCrossFileKube checks that a Service in one file is matched with the
// model server Deployment of another, and a NetworkPolicy in a third file
// covers the namespace.
func TestCrossFileKube(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("deploy.yaml", deployVLLM)
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: llm}\nspec:\n  type: NodePort\n  selector: {app: llm}\n")
	write("netpol.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n")
	fs, err := Scan(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID+"@"+f.Location.Path+" "+f.Severity.String())
	}
	want := []string{"iac.kube.model-server-exposed@svc.yaml high"}
	if !slices.Equal(ids, want) {
		t.Errorf("got %q, want %q", ids, want)
	}
}

func TestRulesList(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || !strings.HasPrefix(r.ID, "iac.") || r.Remediation == "" || r.Title == "" || len(r.References.CWE) == 0 {
			t.Errorf("bad or duplicate rule %+v", r)
		}
		seen[r.ID] = true
	}
}

func TestScanRootIsFile(t *testing.T) {
	fs, err := Scan(context.Background(), "testdata/inference-service/Dockerfile", Options{})
	if err != nil || len(fs) == 0 {
		t.Fatalf("findings %d, err %v", len(fs), err)
	}
	for _, f := range fs {
		if f.Location.Path != "Dockerfile" {
			t.Errorf("path %q, want Dockerfile", f.Location.Path)
		}
	}
}

func BenchmarkScanCorpus(b *testing.B) {
	var size int64
	filepath.WalkDir("testdata/inference-service", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Scan(context.Background(), "testdata/inference-service", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHelmRendered checks documents after empty ones (Helm output) are
// read, with their own line numbers.
func TestHelmRendered(t *testing.T) {
	data := "---\n# Source: chart/templates/empty.yaml\n---\n---\n# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n" + goodContainer
	fs, err := ScanFile("rendered.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s:%d", f.RuleID, f.Location.Line))
	}
	want := []string{"iac.kube.no-network-policy:6", "iac.kube.host-network:10"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
