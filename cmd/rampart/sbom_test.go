package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSBOMCommand(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	model := filepath.Join(repo, "models", "clf")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(repo, "requirements.txt"), []byte("torch==2.3.1\n"), 0o644)
	// A protocol 2 pickle that imports os.system.
	os.WriteFile(filepath.Join(model, "model.pkl"), []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R."), 0o644)
	prefix := filepath.Join(dir, "k")
	if out, code := run(t, newRoot(), "", "keygen", "--type", "ecdsa-p256", "--out", prefix); code != 0 {
		t.Fatalf("keygen: %d %s", code, out)
	}
	if out, code := run(t, newRoot(), "", "model", "sign", model, "--key", prefix+".key"); code != 0 {
		t.Fatalf("sign: %d %s", code, out)
	}

	type bom struct {
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Ref        string `json:"bom-ref"`
			Type       string `json:"type"`
			Properties []struct{ Name, Value string }
		} `json:"components"`
	}
	props := func(t *testing.T, b bom, ref string) map[string]string {
		t.Helper()
		for _, c := range b.Components {
			if c.Ref == ref {
				m := map[string]string{}
				for _, p := range c.Properties {
					m[p.Name] = p.Value
				}
				return m
			}
		}
		t.Fatalf("no component %s", ref)
		return nil
	}

	// Standard output, no key.
	out, code := run(t, newRoot(), "", "sbom", repo)
	if code != 0 {
		t.Fatalf("sbom: %d %s", code, out)
	}
	var b bom
	if err := json.Unmarshal([]byte(out), &b); err != nil || b.SpecVersion != "1.6" {
		t.Fatalf("not a CycloneDX 1.6 BOM (%v): %s", err, out)
	}
	props(t, b, "pkg:pypi/torch@2.3.1")
	p := props(t, b, "model:models/clf/model.pkl")
	if p["rampart:signature:status"] != "unverified" || p["rampart:scan:max-severity"] != "critical" {
		t.Errorf("model properties without a key: %v", p)
	}

	// -o FILE with the signer's key.
	file := filepath.Join(dir, "bom.json")
	if out, code := run(t, newRoot(), "", "sbom", repo, "-o", file, "--pubkey", prefix+".pub"); code != 0 || out != "" {
		t.Fatalf("sbom -o: %d %q", code, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = bom{}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if p := props(t, b, "model:models/clf/model.pkl"); p["rampart:signature:status"] != "verified" {
		t.Errorf("with the key: %v", p)
	}

	// Errors exit 2 with a message.
	for _, args := range [][]string{
		{"sbom", filepath.Join(dir, "missing")},
		{"sbom", repo, "--pubkey", filepath.Join(dir, "missing.pub")},
		{"sbom"},
		{"sbom", repo, "--no-such-flag"},
		{"sbom", repo, "--cert-chain", filepath.Join(dir, "missing.pem")},
		{"sbom", repo, "--cert-chain", prefix + ".pub"}, // not a certificate
	} {
		out, code := run(t, newRoot(), "", args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, out)
		}
		if !strings.Contains(out, "error:") {
			t.Errorf("%v: no error message: %s", args, out)
		}
	}
}
