package registry_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/artifact/registry"
)

const digestA = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"

func TestSignAndParse(t *testing.T) {
	s := ed25519Key(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 999, time.UTC)
	for _, st := range []registry.Statement{
		{Action: registry.ActionPush, Model: "meta-llama/Llama-3-8B", Version: "1.0+build.2", Digest: digestA, Lineage: []string{"data:sha256:1", "café <&>"}},
		{Action: registry.ActionPromote, Model: "m", Version: "1", Digest: digestA},
		{Action: registry.ActionApprove, Model: "m", Version: "1", Digest: digestA, Request: "act_0123456789abcdef0123456789abcdef"},
		{Action: registry.ActionRollback, Model: "llama3:8b", Version: "v2"},
	} {
		ss, err := s.Sign(st, now)
		if err != nil {
			t.Fatalf("Sign(%s): %v", st.Action, err)
		}
		got, err := registry.ParseStatement(ss.Statement)
		if err != nil {
			t.Fatalf("ParseStatement(%s): %v", ss.Statement, err)
		}
		if got.Action != st.Action || got.Model != st.Model || got.KeyID != s.KeyID() || got.IssuedAt != "2026-11-27T12:00:00Z" {
			t.Fatalf("parsed %+v from %s", got, ss.Statement)
		}
	}
}

func TestParseStatementRefuses(t *testing.T) {
	s := ed25519Key(t)
	ss, err := s.Sign(registry.Statement{Action: registry.ActionPromote, Model: "m", Version: "1", Digest: digestA}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	good := string(ss.Statement)
	tests := []struct {
		name, stmt, want string
	}{
		{"empty", "", "EOF"},
		{"not json", "promote m 1", "invalid character"},
		{"leading space", " " + good, "canonical"},
		{"trailing newline", good + "\n", "canonical"},
		{"two objects", good + good, "after the object"},
		{"unknown field", strings.Replace(good, `{"action"`, `{"x":1,"action"`, 1), "unknown field"},
		{"duplicate key", strings.Replace(good, `{"action":"promote"`, `{"action":"push","action":"promote"`, 1), "canonical"},
		{"keys out of order", strings.Replace(good, `"action":"promote","digest":"`+digestA+`"`, `"digest":"`+digestA+`","action":"promote"`, 1), "canonical"},
		{"escaped letter", strings.Replace(good, `"model":"m"`, `"model":"\u006d"`, 1), "canonical"},
		{"wrong type", strings.Replace(good, registry.StatementType, "other/v1", 1), "type"},
		{"bad action", strings.Replace(good, `"promote"`, `"delete"`, 1), "unknown action"},
		{"bad digest", strings.Replace(good, digestA, "sha256:00", 1), "digest"},
		{"bad model", strings.Replace(good, `"model":"m"`, `"model":"-m"`, 1), "model name"},
		{"bad version", strings.Replace(good, `"version":"1"`, `"version":"1 2"`, 1), "version"},
		{"local time", strings.Replace(good, "Z\"", "+00:00\"", 1), "issued_at"},
		{"too long", good + strings.Repeat(" ", registry.MaxStatement), "at most"},
		{"promote with request", strings.Replace(good, `"type"`, `"request":"act_0123456789abcdef0123456789abcdef","type"`, 1), "only model"},
	}
	for _, tt := range tests {
		_, err := registry.ParseStatement([]byte(tt.stmt))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	// Field rules per action are checked when signing too.
	for _, st := range []registry.Statement{
		{Action: registry.ActionRollback, Model: "m", Version: "1", Digest: digestA},
		{Action: registry.ActionApprove, Model: "m", Version: "1", Digest: digestA},
		{Action: registry.ActionPush, Model: "m", Version: "1", Digest: digestA, Lineage: []string{""}},
		{Action: registry.ActionPush, Model: "m", Version: "1", Digest: digestA, Lineage: make([]string, registry.MaxLineage+1)},
		{Action: registry.ActionPromote, Model: "m", Version: "1"},
	} {
		if _, err := s.Sign(st, time.Now()); err == nil {
			t.Errorf("Sign(%+v) succeeded", st)
		}
	}
}

func TestKeys(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	privPEM := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	pubPEM := func(k any) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	for name, k := range map[string]any{"ed25519": edPriv, "p256": p256} {
		s, err := registry.ParsePrivateKey(privPEM(k))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pub, err := registry.ParsePublicKey(s.PublicKeyPEM())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if pub.KeyID != s.KeyID() || !strings.HasPrefix(pub.KeyID, "sha256:") {
			t.Fatalf("%s: key ids %s and %s", name, pub.KeyID, s.KeyID())
		}
	}
	bad := []struct {
		name string
		pem  []byte
		priv bool
		want string
	}{
		{"p384 private", privPEM(p384), true, "P-256"},
		{"rsa private", privPEM(rsaKey), true, "not supported"},
		{"p384 public", pubPEM(&p384.PublicKey), false, "P-256"},
		{"rsa public", pubPEM(&rsaKey.PublicKey), false, "not supported"},
		{"public as private", pubPEM(edPriv.Public()), true, `want "PRIVATE KEY"`},
		{"private as public", privPEM(edPriv), false, `want "PUBLIC KEY"`},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), true, "unencrypted"},
		{"garbage", []byte("hello"), false, "no PEM block"},
		{"huge", bytes.Repeat([]byte("A"), registry.MaxKeyPEM+1), false, "at most"},
		{"bad der", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0x03, 1, 2, 3}}), false, "public key"},
	}
	for _, tt := range bad {
		var err error
		if tt.priv {
			_, err = registry.ParsePrivateKey(tt.pem)
		} else {
			_, err = registry.ParsePublicKey(tt.pem)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParseStatement(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	s, err := registry.NewSigner(k)
	if err != nil {
		f.Fatal(err)
	}
	for _, st := range []registry.Statement{
		{Action: registry.ActionPush, Model: "m", Version: "1", Digest: digestA, Lineage: []string{"a"}, Report: digestA},
		{Action: registry.ActionApprove, Model: "m", Version: "1", Digest: digestA, Request: "act_0123456789abcdef0123456789abcdef"},
		{Action: registry.ActionRollback, Model: "m", Version: "1"},
	} {
		ss, err := s.Sign(st, time.Now())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ss.Statement)
	}
	f.Add([]byte(`{"action":"push"}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := registry.ParseStatement(b)
		if err != nil {
			return
		}
		// What parses is canonical: signing it again gives the same
		// fields.
		again, err := s.Sign(*st, time.Now())
		if err != nil {
			t.Fatalf("a parsed statement does not sign: %v", err)
		}
		st2, err := registry.ParseStatement(again.Statement)
		if err != nil || st2.Model != st.Model || st2.Version != st.Version || st2.Action != st.Action {
			t.Fatalf("round trip: %+v, %v", st2, err)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := registry.NewSigner(k)
	f.Add(s.PublicKeyPEM())
	p, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sp, _ := registry.NewSigner(p)
	f.Add(sp.PublicKeyPEM())
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMA==\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := registry.ParsePublicKey(b)
		if err != nil {
			return
		}
		if pub.Algorithm != registry.AlgEd25519 && pub.Algorithm != registry.AlgECDSAP256 {
			t.Fatalf("accepted a %s key", pub.Algorithm)
		}
	})
}
