package iac

import (
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, glob string, extra ...string) {
	paths, _ := filepath.Glob(glob)
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// checkFindings asserts what holds for the findings of any input.
func checkFindings(t *testing.T, name string, data []byte) {
	fs, err := ScanFile(name, data)
	if err != nil {
		return
	}
	for _, f := range fs {
		if f.RuleID == "" || f.Location.Line < 0 || f.Location.Offset < 0 || f.Location.Offset > int64(len(data)) {
			t.Fatalf("bad finding %+v", f)
		}
	}
}

func FuzzDockerfile(f *testing.F) {
	addSeeds(f, "testdata/inference-service/Dockerfile",
		"# escape=`\nFROM a `\n  AS b\nRUN <<A <<-B\nx\nA\n\tB\nUSER 0\n",
		"ARG X=${Y:-z}\nFROM ${X}:${\nENV a b\nADD --checksum=x http://a /b\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFindings(t, "Dockerfile", data)
	})
}

func FuzzKubeYAML(f *testing.F) {
	addSeeds(f, "testdata/inference-service/deploy/*.yaml", deployVLLM,
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: &a {hostNetwork: true, containers: [*a]}\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFindings(t, "k.yaml", data)
	})
}

func FuzzCompose(f *testing.F) {
	addSeeds(f, "testdata/inference-service/docker-compose.yml",
		"services:\n  a:\n    ports: [\"[::1]:1:2/udp\", {target: 1}]\n    environment: [A=b]\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFindings(t, "compose.yaml", data)
	})
}

func FuzzTerraform(f *testing.F) {
	addSeeds(f, "testdata/inference-service/infra/*.tf",
		"resource \"aws_iam_policy\" \"p\" { policy = jsonencode({Statement = {Action = \"*\"}}) }\n",
		"data \"aws_iam_policy_document\" \"d\" {\n statement {\n principals {\n type = \"*\"\n }\n }\n}\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFindings(t, "main.tf", data)
	})
}
