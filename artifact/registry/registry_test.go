package registry_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/store"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/sqlite"
	"github.com/rampartsec/rampart/store/storetest"
)

// stores opens an empty store of each driver (PostgreSQL when the test
// server is available).
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rampart.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), storetest.NewPostgresDatabase(t), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// forEachStore runs fn against every driver.
func forEachStore(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.Store)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { fn(t, s.open) })
	}
}

var evilRule = finding.Family{Name: "testscan", Layer: finding.LayerModelWeights}.Rule("exec", "code execution", finding.Critical)
var noteRule = finding.Family{Name: "testscan", Layer: finding.LayerModelWeights}.Rule("note", "odd metadata", finding.Low)

// scanFolder stands in for the model scanner (package scan/model, not yet
// merged): a file named *.pkl is a critical finding, notes.txt a low one.
func scanFolder(_ context.Context, dir string) (*finding.Report, error) {
	rep := &finding.Report{Tool: "rampart", Version: "test", Command: "scan model"}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".pkl"):
			f := finding.New(evilRule, finding.Location{Path: p, Offset: 2}, 1, "posix.system")
			rep.Findings = append(rep.Findings, f)
		case filepath.Base(p) == "notes.txt":
			rep.Findings = append(rep.Findings, finding.New(noteRule, finding.Location{Path: p}, 0.5, ""))
		}
		return nil
	})
	return rep, err
}

// verifySig stands in for the model signature verifier (package
// artifact/sign, not yet merged): model.sig must hold "signed:" and the
// folder's digest.
func verifySig(ctx context.Context, dir, sig string) (registry.SignatureInfo, error) {
	b, err := os.ReadFile(sig)
	if err != nil {
		return registry.SignatureInfo{}, fmt.Errorf("no signature: %w", err)
	}
	m, err := registry.DigestDir(ctx, dir)
	if err != nil {
		return registry.SignatureInfo{}, err
	}
	if string(b) != "signed:"+m.Digest {
		return registry.SignatureInfo{}, errors.New("signature does not match the files")
	}
	return registry.SignatureInfo{Verified: true, Signer: "test-signer"}, nil
}

// modelDir writes a model folder with the given extra files and, when
// sign is set, a valid model.sig.
func modelDir(t *testing.T, sign bool, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	weights := make([]byte, 3<<20)
	_, _ = rand.Read(weights)
	all := map[string]string{"config.json": `{"arch":"llama"}`, "weights/model.safetensors": string(weights)}
	for k, v := range files {
		all[k] = v
	}
	for name, content := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if sign {
		m, err := registry.DigestDir(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, registry.SignatureFile), []byte("signed:"+m.Digest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// env is a registry over a real store with three identities.
type env struct {
	t                  *testing.T
	st                 store.Store
	reg                *registry.Registry
	now                time.Time
	alice, bob, mallet *registry.Signer // mallet has no registered identity
}

func newEnv(t *testing.T, s store.Store) *env {
	t.Helper()
	e := &env{t: t, st: s, now: time.Now()}
	e.reg = registry.New(s, registry.Options{Scanner: scanFolder, Verifier: verifySig, Clock: func() time.Time { return e.now }})
	e.alice = e.identity("alice", ed25519Key(t))
	e.bob = e.identity("bob", p256Key(t))
	e.mallet = ed25519Key(t)
	return e
}

func ed25519Key(t *testing.T) *registry.Signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer(t, k)
}

func p256Key(t *testing.T) *registry.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer(t, k)
}

func signer(t *testing.T, k crypto.Signer) *registry.Signer {
	t.Helper()
	s, err := registry.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// identity registers a signer's key as the identity name.
func (e *env) identity(name string, s *registry.Signer) *registry.Signer {
	e.t.Helper()
	if _, err := e.reg.AddIdentity(context.Background(), name, s.PublicKeyPEM(), "admin"); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) sign(s *registry.Signer, st registry.Statement) registry.SignedStatement {
	e.t.Helper()
	ss, err := s.Sign(st, e.now)
	if err != nil {
		e.t.Fatal(err)
	}
	return ss
}

func (e *env) digest(dir string) string {
	e.t.Helper()
	m, err := registry.DigestDir(context.Background(), dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Digest
}

func (e *env) push(s *registry.Signer, name, version, dir string, lineage ...string) (*registry.Version, error) {
	e.t.Helper()
	st := registry.Statement{Action: registry.ActionPush, Model: name, Version: version, Digest: e.digest(dir), Lineage: lineage}
	return e.reg.Push(context.Background(), e.sign(s, st), registry.PushInput{Dir: dir})
}

func (e *env) mustPush(s *registry.Signer, name, version, dir string) *registry.Version {
	e.t.Helper()
	v, err := e.push(s, name, version, dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) version(name, version string) *registry.Version {
	e.t.Helper()
	v, err := e.reg.Version(context.Background(), name, version)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) promote(s *registry.Signer, name, version string) (*registry.Action, error) {
	e.t.Helper()
	v := e.version(name, version)
	return e.reg.RequestPromotion(context.Background(), e.sign(s, registry.Statement{Action: registry.ActionPromote, Model: name, Version: version, Digest: v.Digest}))
}

func (e *env) approve(s *registry.Signer, name, version, request string) (*registry.Version, error) {
	e.t.Helper()
	v := e.version(name, version)
	return e.reg.Approve(context.Background(), e.sign(s, registry.Statement{Action: registry.ActionApprove, Model: name, Version: version, Digest: v.Digest, Request: request}))
}

func (e *env) rollback(s *registry.Signer, name, version string) (*registry.RollbackResult, error) {
	e.t.Helper()
	return e.reg.Rollback(context.Background(), e.sign(s, registry.Statement{Action: registry.ActionRollback, Model: name, Version: version}))
}

// toProduction pushes, requests (alice) and approves (bob) a version.
func (e *env) toProduction(name, version string) *registry.Version {
	e.t.Helper()
	e.mustPush(e.alice, name, version, modelDir(e.t, true, nil))
	req, err := e.promote(e.alice, name, version)
	if err != nil {
		e.t.Fatal(err)
	}
	v, err := e.approve(e.bob, name, version, req.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// audited returns the registry's audit records, after checking the chain.
func (e *env) audited() []audit.Record {
	e.t.Helper()
	ctx := context.Background()
	rep, err := audit.Verify(ctx, e.st)
	if err != nil || !rep.OK() {
		e.t.Fatalf("audit verify: %v, %v", rep, err)
	}
	var recs []audit.Record
	if err := e.st.ScanAudit(ctx, 1, func(en audit.Entry) error {
		r, err := audit.Decode(en.Payload)
		if strings.HasPrefix(r.Action, "registry.") && !strings.HasPrefix(r.Action, "registry.identity") {
			recs = append(recs, r)
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// summary renders audit records as "action subject target decision".
func summary(recs []audit.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %s %s %s", r.Action, r.Subject, r.Target, r.Decision))
	}
	return out
}

func wantRefusal(t *testing.T, err error, code string) {
	t.Helper()
	if got := registry.RefusalCode(err); got != code {
		t.Fatalf("err = %v (refusal code %q), want a refusal %q", err, got, code)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
