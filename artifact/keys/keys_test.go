package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWritePairAndLoad(t *testing.T) {
	for _, typ := range Types {
		t.Run(string(typ), func(t *testing.T) {
			k, err := Generate(typ)
			if err != nil {
				t.Fatal(err)
			}
			prefix := filepath.Join(t.TempDir(), "signing")
			privPath, pubPath, err := WritePair(prefix, k)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(privPath)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("private key mode %v, want 0600", fi.Mode().Perm())
			}
			priv, err := LoadPrivate(privPath)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := LoadPublic(pubPath)
			if err != nil {
				t.Fatal(err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(priv.Public()) {
				t.Fatal("public key does not match the private key")
			}
			if Describe(pub) != string(typ) {
				t.Errorf("Describe = %q, want %q", Describe(pub), typ)
			}
			b, _ := os.ReadFile(privPath)
			if !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----") {
				t.Errorf("private key is not PKCS#8 PEM: %.30q", b)
			}
			if _, _, err := WritePair(prefix, k); err == nil {
				t.Error("WritePair overwrote existing files")
			}
		})
	}
}

func TestParseFormats(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p384)
	k, err := ParsePrivate(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	if err != nil {
		t.Fatalf("SEC1: %v", err)
	}
	if Describe(k.Public()) != "ecdsa-p384" {
		t.Errorf("SEC1 key is %s", Describe(k.Public()))
	}
	// openssl ecparam -genkey writes an EC PARAMETERS block first.
	withParams := "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n" +
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	if _, err := ParsePrivate([]byte(withParams)); err != nil {
		t.Fatalf("SEC1 after EC PARAMETERS: %v", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	if _, err := ParsePublic(der); err != nil {
		t.Fatalf("DER public key: %v", err)
	}
	r, _ := rsa.GenerateKey(rand.Reader, 1024)
	rder, _ := x509.MarshalPKCS8PrivateKey(r)
	bad := []struct {
		name string
		data []byte
	}{
		{"rsa private", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rder})},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})},
		{"garbage", []byte("not a key")},
		{"empty", nil},
	}
	for _, b := range bad {
		if _, err := ParsePrivate(b.data); err == nil {
			t.Errorf("%s: ParsePrivate accepted it", b.name)
		}
		if _, err := ParsePublic(b.data); err == nil {
			t.Errorf("%s: ParsePublic accepted it", b.name)
		}
	}
}

func TestHintOfVectorKey(t *testing.T) {
	// The key of the OpenSSF model-signing vectors and the hint that
	// model_signing 1.1 wrote for it.
	k, err := LoadPublic("../sign/testdata/vectors/keys/signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	h, err := Hint(k)
	if err != nil {
		t.Fatal(err)
	}
	if h != "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e" {
		t.Fatalf("hint %s", h)
	}
}
