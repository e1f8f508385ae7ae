package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelSignVerifyCLI(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m")
	os.MkdirAll(filepath.Join(model, "sub"), 0o755)
	for _, f := range []string{"a.bin", "sub/b.bin"} {
		if err := os.WriteFile(filepath.Join(model, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefix := filepath.Join(dir, "k")
	if out, code := run(t, newRoot(), "", "keygen", "--type", "ecdsa-p256", "--out", prefix); code != 0 {
		t.Fatalf("keygen: %d %s", code, out)
	}
	if out, code := run(t, newRoot(), "", "model", "sign", model, "--key", prefix+".key"); code != 0 || !strings.Contains(out, "Signed 2 file(s)") {
		t.Fatalf("sign: %d %s", code, out)
	}
	if out, code := run(t, newRoot(), "", "model", "verify", model, "--pubkey", prefix+".pub"); code != 0 || !strings.HasPrefix(out, "OK: 2 file(s)") {
		t.Fatalf("verify: %d %s", code, out)
	}
	os.WriteFile(filepath.Join(model, "sub/b.bin"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(model, "c.bin"), []byte("new"), 0o644)
	out, code := run(t, newRoot(), "", "model", "verify", model, "--pubkey", prefix+".pub")
	if code != 1 || !strings.Contains(out, "added     c.bin") || !strings.Contains(out, "modified  sub/b.bin") {
		t.Fatalf("verify changed model: %d %s", code, out)
	}
	if out, code := run(t, newRoot(), "", "model", "verify", model); code != 2 {
		t.Fatalf("verify without a key: %d %s", code, out)
	}
	// A key pair of another type does not verify.
	run(t, newRoot(), "", "keygen", "--type", "ed25519", "--out", prefix+"2")
	if out, code := run(t, newRoot(), "", "model", "verify", model, "--pubkey", prefix+"2.pub"); code != 1 || !strings.Contains(out, "bad signature") {
		t.Fatalf("verify with another key: %d %s", code, out)
	}
}

func TestModelVerifyVectorsCLI(t *testing.T) {
	v := "../../artifact/sign/testdata/vectors"
	out, code := run(t, newRoot(), "", "model", "verify", v+"/v1.1.0-certificate", "--cert-chain", v+"/keys/ca-cert.pem")
	if code != 0 {
		t.Fatalf("certificate vector: %d %s", code, out)
	}
	out, code = run(t, newRoot(), "", "model", "verify", v+"/v1.0.1-elliptic-key", "--pubkey", v+"/keys/signing-key-pub.pem", "--ignore-paths", "ignore-me")
	if code != 0 {
		t.Fatalf("key vector: %d %s", code, out)
	}
}

func TestModelEncryptDecryptCLI(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	if out, code := run(t, newRoot(), "", "keygen", "--type", "kek", "--out", prefix); code != 0 {
		t.Fatalf("keygen: %d %s", code, out)
	}
	src := filepath.Join(dir, "w.bin")
	plain := []byte(strings.Repeat("weights ", 300000))
	os.WriteFile(src, plain, 0o644)
	kek := "file:" + prefix + ".kek"
	if out, code := run(t, newRoot(), "", "model", "encrypt", src, "--kek", kek); code != 0 {
		t.Fatalf("encrypt: %d %s", code, out)
	}
	os.Remove(src)
	if out, code := run(t, newRoot(), "", "model", "decrypt", src+".enc", "--kek", kek); code != 0 {
		t.Fatalf("decrypt: %d %s", code, out)
	}
	got, err := os.ReadFile(src)
	if err != nil || string(got) != string(plain) {
		t.Fatalf("round trip: %v", err)
	}
	os.Remove(src)
	ct, _ := os.ReadFile(src + ".enc")
	ct[len(ct)/2] ^= 1
	os.WriteFile(src+".enc", ct, 0o644)
	out, code := run(t, newRoot(), "", "model", "decrypt", src+".enc", "--kek", kek)
	if code != 1 || !strings.Contains(out, "authentication failed") {
		t.Fatalf("tampered: %d %s", code, out)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Fatalf("tampered decryption left %s", src)
	}
	t.Setenv("RAMPART_TEST_WRONG_KEK", strings.Repeat("ab", 32))
	if out, code := run(t, newRoot(), "", "model", "decrypt", src+".enc", "--kek", "env:RAMPART_TEST_WRONG_KEK", "--out", "-"); code != 1 {
		t.Fatalf("wrong KEK: %d %s", code, out)
	}
}
