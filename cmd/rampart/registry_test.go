package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

// writeKeyPair writes a PKCS#8 private key and its PKIX public key.
func writeKeyPair(t *testing.T, dir, name string, k any, pub any) (priv, public string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	priv, public = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, public
}

// cliModel writes a model folder: a benign safetensors file, and with evil
// a pickle that calls os.system.
func cliModel(t *testing.T, evil bool) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"config.json":       []byte(`{"model_type":"test"}`),
		"model.safetensors": []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{}}"),
	}
	if evil {
		files["extra.pkl"] = pickletest.New(2).Call("os", "system", pickletest.S("id")).Stop().Bytes()
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRegistryCLI(t *testing.T) {
	keys := t.TempDir()
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	aliceKey, alicePub := writeKeyPair(t, keys, "alice", edKey, edKey.Public())
	bobKey, bobPub := writeKeyPair(t, keys, "bob", ecKey, &ecKey.PublicKey)
	data := []string{"--data-dir", t.TempDir()}
	rampart := rampartWith(t, data...)

	// The model signer's key, and a helper that signs a model folder with it.
	plain := func(args ...string) {
		t.Helper()
		if out, code := run(t, newRoot(), "", args...); code != 0 {
			t.Fatalf("rampart %s: exit %d:\n%s", strings.Join(args, " "), code, out)
		}
	}
	plain("keygen", "--out", filepath.Join(keys, "signer"))
	signerKey, signerPub := filepath.Join(keys, "signer.key"), filepath.Join(keys, "signer.pub")
	signed := func(evil bool) string {
		dir := cliModel(t, evil)
		plain("model", "sign", dir, "--key", signerKey)
		return dir
	}

	rampart(0, "registry", "identity", "add", "alice", "--pubkey", alicePub)
	rampart(0, "registry", "identity", "add", "bob", "--pubkey", bobPub)
	if out := rampart(1, "registry", "identity", "add", "alice2", "--pubkey", alicePub); !strings.Contains(out, "registered already") {
		t.Fatalf("a second identity with alice's key: %s", out)
	}
	if out := rampart(0, "registry", "identity", "list"); !strings.Contains(out, "alice") || !strings.Contains(out, "ecdsa-p256") {
		t.Fatalf("identity list:\n%s", out)
	}

	out := rampart(0, "registry", "push", "fraud", "1", signed(false), "--key", aliceKey, "--pubkey", signerPub,
		"--lineage", "dataset:train-2026-11", "--format", "json")
	var pushed struct {
		Stage      string   `json:"stage"`
		Promotable bool     `json:"promotable"`
		Lineage    []string `json:"lineage"`
	}
	if err := json.Unmarshal([]byte(out), &pushed); err != nil {
		t.Fatalf("push --format json: %v\n%s", err, out)
	}
	if pushed.Stage != "staging" || !pushed.Promotable || len(pushed.Lineage) != 1 {
		t.Fatalf("pushed %+v", pushed)
	}
	rampart(0, "registry", "promote", "fraud", "1", "--key", aliceKey)
	if out := rampart(1, "registry", "promote", "fraud", "1", "--key", aliceKey); !strings.Contains(out, "refused: promotion of fraud@1 has no approval") {
		t.Fatalf("promote without approval:\n%s", out)
	}
	if out := rampart(1, "registry", "approve", "fraud", "1", "--key", aliceKey); !strings.Contains(out, "refused: approval by the requesting identity alice") {
		t.Fatalf("self-approval:\n%s", out)
	}
	if out := rampart(0, "registry", "approve", "fraud", "1", "--key", bobKey); !strings.Contains(out, "fraud 1 is in production") {
		t.Fatalf("approve:\n%s", out)
	}

	rampart(0, "registry", "push", "fraud", "2", signed(true), "--key", bobKey, "--pubkey", signerPub)
	if out := rampart(1, "registry", "promote", "fraud", "2", "--key", bobKey); !strings.Contains(out, "has a critical finding") {
		t.Fatalf("promote with a critical finding:\n%s", out)
	}
	// Signed, then changed: the signature no longer covers the files.
	tampered := signed(false)
	if err := os.WriteFile(filepath.Join(tampered, "config.json"), []byte(`{"model_type":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rampart(0, "registry", "push", "fraud", "4", tampered, "--key", bobKey, "--pubkey", signerPub)
	if out := rampart(1, "registry", "promote", "fraud", "4", "--key", bobKey); !strings.Contains(out, "signature") {
		t.Fatalf("promote with a stale signature:\n%s", out)
	}
	// Pushed without naming the signer's key: no verified signature.
	rampart(0, "registry", "push", "fraud", "5", signed(false), "--key", bobKey)
	if out := rampart(1, "registry", "promote", "fraud", "5", "--key", bobKey); !strings.Contains(out, "signature") {
		t.Fatalf("promote without a verified signature:\n%s", out)
	}
	rampart(0, "registry", "push", "fraud", "3", signed(false), "--key", bobKey, "--pubkey", signerPub)
	rampart(0, "registry", "promote", "fraud", "3", "--key", bobKey)
	rampart(0, "registry", "approve", "fraud", "3", "--key", aliceKey)
	if out := rampart(0, "registry", "rollback", "fraud", "--key", bobKey); !strings.Contains(out, "3 is retired, 1 is in production again") {
		t.Fatalf("rollback:\n%s", out)
	}

	out = rampart(0, "registry", "list", "fraud")
	for _, want := range []string{"fraud  1        production", "fraud  2        staging", "fraud  3        retired", "fraud  4        staging"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	out = rampart(0, "registry", "show", "fraud")
	for _, want := range []string{"fraud 1", "stage       production", "approval of act_", "by bob", "lineage     dataset:train-2026-11"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out = rampart(0, "registry", "show", "fraud", "2", "--format", "json")
	var shown struct {
		BlockedBy string `json:"blocked_by"`
		Actions   []struct {
			Signed registry.Statement `json:"signed_statement"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(shown.BlockedBy, "fraud@2 has a critical finding") || len(shown.Actions) != 1 || shown.Actions[0].Signed.Action != "push" {
		t.Errorf("show --format json:\n%s", out)
	}

	if out := rampart(0, "audit", "verify"); !strings.Contains(out, "head ") {
		t.Fatalf("audit verify:\n%s", out)
	}
	out = rampart(0, "audit", "tail", "-n", "100")
	for _, want := range []string{"registry.approve", "registry.rollback", "registry.restore", "by alice denied: refused: approval by the requesting identity alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit tail lacks %q:\n%s", want, out)
		}
	}
}

// TestRegistryRequestTTL: registry.request_ttl from the configuration
// expires a request nobody approved in time.
func TestRegistryRequestTTL(t *testing.T) {
	keys := t.TempDir()
	_, aKey, _ := ed25519.GenerateKey(rand.Reader)
	_, bKey, _ := ed25519.GenerateKey(rand.Reader)
	aliceKey, alicePub := writeKeyPair(t, keys, "alice", aKey, aKey.Public())
	bobKey, bobPub := writeKeyPair(t, keys, "bob", bKey, bKey.Public())
	cfg := filepath.Join(keys, "rampart.yaml")
	if err := os.WriteFile(cfg, []byte(`upstreams:
  - name: up
    base_url: http://127.0.0.1:1/v1
    api_key: env:RAMPART_TEST_NO_SUCH_VAR
    models: ["*"]
registry:
  request_ttl: 1s
`), 0o600); err != nil {
		t.Fatal(err)
	}
	data := []string{"--data-dir", t.TempDir(), "--config", cfg}
	dir := cliModel(t, false)
	rampart := rampartWith(t, data...)
	signModel(t, keys, dir)
	rampart(0, "registry", "identity", "add", "alice", "--pubkey", alicePub)
	rampart(0, "registry", "identity", "add", "bob", "--pubkey", bobPub)
	rampart(0, "registry", "push", "m", "1", dir, "--key", aliceKey, "--pubkey", filepath.Join(keys, "signer.pub"))
	rampart(0, "registry", "promote", "m", "1", "--key", aliceKey)
	time.Sleep(1100 * time.Millisecond)
	if out := rampart(1, "registry", "approve", "m", "1", "--key", bobKey); !strings.Contains(out, "expired") {
		t.Fatalf("approval after request_ttl:\n%s", out)
	}
	rampart(0, "registry", "promote", "m", "1", "--key", aliceKey)
	// The new request is approved at once, well within 1 s on an idle
	// machine; a loaded one may take longer, so the approval is retried
	// with a fresh request rather than failing the test on timing.
	for attempt := 0; ; attempt++ {
		out, code := run(t, newRoot(), "", append([]string{"registry", "approve", "m", "1", "--key", bobKey}, data...)...)
		if code == 0 && strings.Contains(out, "m 1 is in production") {
			break
		}
		if attempt == 5 || !strings.Contains(out, "expired") {
			t.Fatalf("approval of a fresh request: exit %d:\n%s", code, out)
		}
		rampart(0, "registry", "promote", "m", "1", "--key", aliceKey)
	}
	if out := rampart(0, "audit", "tail", "-n", "100"); !strings.Contains(out, "registry.promote.expire") {
		t.Errorf("audit tail lacks the expiry:\n%s", out)
	}
}

// TestRegistryIdentityLifecycle: identity rotate and remove end to end.
// After a rotation the old key is refused, its pending request cannot be
// approved, the new key works and the history still verifies; after a
// removal the identity can no longer act and its name stays taken.
func TestRegistryIdentityLifecycle(t *testing.T) {
	keys := t.TempDir()
	_, k1, _ := ed25519.GenerateKey(rand.Reader)
	_, k2, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	aliceOld, aliceOldPub := writeKeyPair(t, keys, "alice-old", k1, k1.Public())
	aliceNew, aliceNewPub := writeKeyPair(t, keys, "alice-new", k2, k2.Public())
	bobKey, bobPub := writeKeyPair(t, keys, "bob", ecKey, &ecKey.PublicKey)
	data := []string{"--data-dir", t.TempDir()}
	rampart := rampartWith(t, data...)
	dir := cliModel(t, false)
	signModel(t, keys, dir)
	rampart(0, "registry", "identity", "add", "alice", "--pubkey", aliceOldPub)
	rampart(0, "registry", "identity", "add", "bob", "--pubkey", bobPub)
	rampart(0, "registry", "push", "m", "1", dir, "--key", aliceOld, "--pubkey", filepath.Join(keys, "signer.pub"))
	rampart(0, "registry", "promote", "m", "1", "--key", aliceOld)

	out := rampart(0, "registry", "identity", "rotate", "alice", "--pubkey", aliceNewPub, "--reason", "laptop stolen")
	if !strings.Contains(out, "Rotated the key of alice") || !strings.Contains(out, "which is retired") {
		t.Fatalf("identity rotate:\n%s", out)
	}
	if out := rampart(1, "registry", "promote", "m", "1", "--key", aliceOld); !strings.Contains(out, "which was retired at") || !strings.Contains(out, "rotated by cli: laptop stolen") {
		t.Fatalf("promote with the retired key:\n%s", out)
	}
	if out := rampart(1, "registry", "approve", "m", "1", "--key", bobKey); !strings.Contains(out, "a request signed with a retired key cannot be approved") {
		t.Fatalf("approving the retired key's request:\n%s", out)
	}
	if out := rampart(1, "registry", "identity", "rotate", "alice", "--pubkey", aliceOldPub); !strings.Contains(out, "a retired key never comes back") {
		t.Fatalf("rotating back to the retired key:\n%s", out)
	}
	rampart(0, "registry", "promote", "m", "1", "--key", aliceNew)
	if out := rampart(0, "registry", "approve", "m", "1", "--key", bobKey); !strings.Contains(out, "m 1 is in production") {
		t.Fatalf("approve after the rotation:\n%s", out)
	}
	out = rampart(0, "registry", "show", "m", "1")
	if strings.Count(out, "key since retired") != 2 || strings.Count(out, "(signature verified)") != 2 || strings.Contains(out, "NOT VERIFIED") {
		t.Errorf("show after the rotation: want the push and the first request marked as signed by a retired key:\n%s", out)
	}

	out = rampart(0, "registry", "identity", "remove", "bob", "--reason", "left")
	if !strings.Contains(out, "Removed identity bob") {
		t.Fatalf("identity remove:\n%s", out)
	}
	if out := rampart(1, "registry", "rollback", "m", "--key", bobKey); !strings.Contains(out, "an identity removed at") {
		t.Fatalf("rollback by a removed identity:\n%s", out)
	}
	if out := rampart(1, "registry", "identity", "remove", "bob"); !strings.Contains(out, "removed at") {
		t.Fatalf("removing twice:\n%s", out)
	}
	if out := rampart(1, "registry", "identity", "add", "bob", "--pubkey", aliceNewPub); !strings.Contains(out, "registered already") {
		t.Fatalf("re-adding a removed name:\n%s", out)
	}
	if out := rampart(0, "registry", "show", "m", "1"); !strings.Contains(out, "by bob  (signature verified; identity since removed)") {
		t.Errorf("show after the removal:\n%s", out)
	}

	out = rampart(0, "registry", "identity", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "alice") || !strings.Contains(lines[1], "active") ||
		!strings.Contains(lines[2], "bob") || !strings.Contains(lines[2], "removed ") || !strings.Contains(lines[2], " by cli") {
		t.Fatalf("identity list:\n%s", out)
	}
	var listed []struct {
		Name            string `json:"name"`
		KeyID           string `json:"key_id"`
		RemovedAt       string `json:"removed_at"`
		RetiredKeyCount int    `json:"retired_key_count"`
		RetiredKeys     []struct {
			KeyID  string `json:"key_id"`
			Reason string `json:"reason"`
		} `json:"retired_keys"`
	}
	out = rampart(0, "registry", "identity", "list", "--format", "json")
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].RetiredKeyCount != 1 || len(listed[0].RetiredKeys) != 1 || listed[0].RetiredKeys[0].Reason != "laptop stolen" ||
		listed[0].RemovedAt != "" || listed[1].RemovedAt == "" || listed[1].RetiredKeyCount != 0 {
		t.Fatalf("identity list --format json:\n%s", out)
	}
	if out := rampart(0, "audit", "verify"); !strings.Contains(out, "head ") {
		t.Fatalf("audit verify:\n%s", out)
	}
	out = rampart(0, "audit", "tail", "-n", "100")
	for _, want := range []string{"registry.identity.rotate", "registry.identity.remove", "registry.promote.expire"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit tail lacks %q:\n%s", want, out)
		}
	}
}

// signModel makes the key pair keys/signer and signs the model folder dir
// with it, as a user would with rampart keygen and rampart model sign.
func signModel(t *testing.T, keys, dir string) {
	t.Helper()
	for _, args := range [][]string{{"keygen", "--out", filepath.Join(keys, "signer")}, {"model", "sign", dir, "--key", filepath.Join(keys, "signer.key")}} {
		if out, code := run(t, newRoot(), "", args...); code != 0 {
			t.Fatalf("rampart %s: exit %d:\n%s", strings.Join(args, " "), code, out)
		}
	}
}

// rampartWith returns a runner of rampart commands with the flags extra
// appended (the store's --data-dir, a --config) that fails the test unless
// the command exits with want, and returns its output.
func rampartWith(t *testing.T, extra ...string) func(want int, args ...string) string {
	return func(want int, args ...string) string {
		t.Helper()
		out, code := run(t, newRoot(), "", append(args, extra...)...)
		if code != want {
			t.Fatalf("rampart %s: exit %d, want %d; output:\n%s", strings.Join(args, " "), code, want, out)
		}
		return out
	}
}
