package keys

import (
	"os"
	"testing"
)

// FuzzParse parses arbitrary key files: it must never panic.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../sign/testdata/vectors/keys/signing-key-pub.pem"); err == nil {
		f.Add(b)
	}
	for _, typ := range Types {
		k, err := Generate(typ)
		if err != nil {
			f.Fatal(err)
		}
		priv, _ := MarshalPrivate(k)
		pub, _ := MarshalPublic(k.Public())
		f.Add(priv)
		f.Add(pub)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePrivate(data); err == nil {
			if Check(k.Public()) != nil {
				t.Fatal("accepted an unsupported private key")
			}
		}
		if k, err := ParsePublic(data); err == nil {
			if _, err := Hint(k); err != nil {
				t.Fatal(err)
			}
		}
	})
}
