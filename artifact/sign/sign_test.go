package sign

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/artifact/keys"
	"github.com/rampartsec/rampart/artifact/manifest"
)

// makeModel writes n files into a new folder: nested folders, sizes from
// 0 to 4 KiB, and git files that signing leaves out.
func makeModel(t testing.TB, n int) (dir string, names []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "model")
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := range n {
		name := fmt.Sprintf("layer%02d/part-%04d.bin", i%17, i)
		if i%10 == 0 {
			name = fmt.Sprintf("top-%04d.json", i)
		}
		data := make([]byte, rng.IntN(4096))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	for _, g := range []string{".git/HEAD", ".gitattributes"} {
		p := filepath.Join(dir, g)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("git"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, names
}

func newPair(t testing.TB, typ keys.Type) (Signer, Verifier, crypto.Signer) {
	t.Helper()
	k, err := keys.Generate(typ)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewKeyVerifier(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return s, v, k
}

func signModel(t testing.TB, dir string, s Signer) {
	t.Helper()
	b, _, err := Sign(context.Background(), dir, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSignature(SignaturePathFor(dir), b); err != nil {
		t.Fatal(err)
	}
}

func verify(t testing.TB, dir string, v Verifier) (*Result, error) {
	t.Helper()
	return VerifyFile(context.Background(), dir, v, Options{})
}

func changeStrings(cs []manifest.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// TestRoundTrip1000 signs a folder of 1,000 files with each key type,
// verifies it, and then changes one byte of every file: each file must be
// reported as modified by name, and one change alone must be reported
// alone.
func TestRoundTrip1000(t *testing.T) {
	for _, typ := range keys.Types {
		t.Run(string(typ), func(t *testing.T) {
			dir, names := makeModel(t, 1000)
			s, v, _ := newPair(t, typ)
			signModel(t, dir, s)
			res, err := verify(t, dir, v)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() || res.Files != 1000 || res.Format != FormatV1 {
				t.Fatalf("fresh signature: ok=%v files=%d format=%q changes=%v", res.OK(), res.Files, res.Format, res.Changes)
			}
			rng := mrand.New(mrand.NewPCG(3, 4))
			// One file at a time, for a sample.
			for _, i := range rng.Perm(len(names))[:5] {
				restore := flipByte(t, filepath.Join(dir, names[i]), rng)
				res, err := verify(t, dir, v)
				if err != nil {
					t.Fatal(err)
				}
				if got := changeStrings(res.Changes); !slices.Equal(got, []string{"modified: " + names[i]}) {
					t.Fatalf("changed %s: changes %v", names[i], got)
				}
				restore()
			}
			// Every file at once: each must be named.
			for _, n := range names {
				flipByte(t, filepath.Join(dir, n), rng)
			}
			res, err = verify(t, dir, v)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changes) != len(names) {
				t.Fatalf("%d changes reported, want %d", len(res.Changes), len(names))
			}
			got := map[string]bool{}
			for _, c := range res.Changes {
				if c.Kind != manifest.Modified {
					t.Fatalf("unexpected change %v", c)
				}
				got[c.Name] = true
			}
			for _, n := range names {
				if !got[n] {
					t.Fatalf("modified file %s not reported", n)
				}
			}
		})
	}
}

// flipByte changes one random byte of the file (or adds one to an empty
// file) and returns a function that restores it.
func flipByte(t testing.TB, p string, rng *mrand.Rand) func() {
	t.Helper()
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data := slices.Clone(orig)
	if len(data) == 0 {
		data = []byte{0}
	} else {
		data[rng.IntN(len(data))] ^= byte(1 + rng.IntN(255))
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(p, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTamperings(t *testing.T) {
	s, v, _ := newPair(t, keys.ECDSAP256)
	_, other, _ := newPair(t, keys.ECDSAP256)
	_, otherEd, _ := newPair(t, keys.Ed25519)
	write := func(dir, name, data string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		change  func(dir string)
		v       Verifier
		want    []string
		wantErr error
	}{
		{name: "unchanged", change: func(string) {}},
		{name: "rename", change: func(d string) {
			os.Rename(filepath.Join(d, "top-0000.json"), filepath.Join(d, "top-0000.json.bak"))
		}, want: []string{"removed: top-0000.json", "added: top-0000.json.bak"}},
		{name: "move to another folder", change: func(d string) {
			os.Rename(filepath.Join(d, "layer16/part-0016.bin"), filepath.Join(d, "layer15/part-0016.bin"))
		}, want: []string{"removed: layer16/part-0016.bin", "added: layer15/part-0016.bin"}},
		{name: "add", change: func(d string) { write(d, "extra.bin", "x") }, want: []string{"added: extra.bin"}},
		{name: "add empty in new folder", change: func(d string) { write(d, "new/empty", "") }, want: []string{"added: new/empty"}},
		{name: "remove", change: func(d string) { os.Remove(filepath.Join(d, "layer03/part-0003.bin")) }, want: []string{"removed: layer03/part-0003.bin"}},
		{name: "truncate", change: func(d string) { os.Truncate(filepath.Join(d, "layer05/part-0005.bin"), 0) }, want: []string{"modified: layer05/part-0005.bin"}},
		{name: "swap two files", change: func(d string) {
			a, b := filepath.Join(d, "layer01/part-0001.bin"), filepath.Join(d, "layer02/part-0002.bin")
			os.Rename(a, a+".t")
			os.Rename(b, a)
			os.Rename(a+".t", b)
		}, want: []string{"modified: layer01/part-0001.bin", "modified: layer02/part-0002.bin"}},
		{name: "git files are not signed", change: func(d string) { write(d, ".git/config", "x"); write(d, ".gitignore", "x") }},
		{name: "signature byte changed", change: func(d string) {
			p := filepath.Join(d, "model.sig")
			b, _ := os.ReadFile(p)
			var bun Bundle
			json.Unmarshal(b, &bun)
			bun.DSSEEnvelope.Signatures[0].Sig[10] ^= 1
			out, _ := bun.Marshal()
			os.WriteFile(p, out, 0o644)
		}, wantErr: ErrSignature},
		{name: "payload changed", change: func(d string) {
			p := filepath.Join(d, "model.sig")
			b, _ := os.ReadFile(p)
			var bun Bundle
			json.Unmarshal(b, &bun)
			bun.DSSEEnvelope.Payload = []byte(strings.Replace(string(bun.DSSEEnvelope.Payload), `"name":"top-0000.json"`, `"name":"top-0000.jsoN"`, 1))
			out, _ := bun.Marshal()
			os.WriteFile(p, out, 0o644)
		}, wantErr: ErrSignature},
		{name: "signature removed", change: func(d string) { os.Remove(filepath.Join(d, "model.sig")) }, wantErr: os.ErrNotExist},
		{name: "wrong key", change: func(string) {}, v: other, wantErr: ErrSignature},
		{name: "wrong key type", change: func(string) {}, v: otherEd, wantErr: ErrSignature},
	}
	base, _ := makeModel(t, 200)
	signModel(t, base, s)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			chmodTree(t, dir)
			tc.change(dir)
			vv := tc.v
			if vv == nil {
				vv = v
			}
			res, err := verify(t, dir, vv)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := changeStrings(res.Changes)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("changes = %v, want %v", got, want)
			}
		})
	}
}

func chmodTree(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
}

// TestFormat checks the written signature against the format: bundle media
// type, key hint, DSSE payload type and PAE, statement subject digest
// over the sorted resources, serialization and ignore paths.
func TestFormat(t *testing.T) {
	dir, names := makeModel(t, 30)
	s, _, k := newPair(t, keys.ECDSAP256)
	signModel(t, dir, s)
	data, err := os.ReadFile(filepath.Join(dir, "model.sig"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey   struct{ Hint string } `json:"publicKey"`
			TlogEntries []any                 `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSEEnvelope struct {
			Payload     []byte `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	pem, _ := keys.MarshalPublic(k.Public())
	sum := sha256.Sum256(pem)
	if raw.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" ||
		raw.VerificationMaterial.PublicKey.Hint != hex.EncodeToString(sum[:]) ||
		raw.VerificationMaterial.TlogEntries == nil ||
		raw.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("bundle fields: %+v", raw)
	}
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string
			Digest map[string]string
		}
		Predicate struct {
			Serialization map[string]any
			Resources     []struct{ Name, Algorithm, Digest string }
		}
	}
	if err := json.Unmarshal(raw.DSSEEnvelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://model_signing/signature/v1.0" {
		t.Fatalf("statement %q %q", st.Type, st.PredicateType)
	}
	h := sha256.New()
	var got []string
	for _, r := range st.Predicate.Resources {
		d, _ := hex.DecodeString(r.Digest)
		h.Write(d)
		got = append(got, r.Name)
		content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(r.Name)))
		if err != nil {
			t.Fatal(err)
		}
		if fd := sha256.Sum256(content); hex.EncodeToString(fd[:]) != r.Digest || r.Algorithm != "sha256" {
			t.Fatalf("resource %s digest", r.Name)
		}
	}
	want := slices.Clone(names)
	slices.SortFunc(want, func(a, b string) int {
		if manifest.Less(a, b) {
			return -1
		}
		return 1
	})
	if !slices.Equal(got, want) {
		t.Fatalf("resources %v, want %v", got, want)
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != "model" || st.Subject[0].Digest["sha256"] != hex.EncodeToString(h.Sum(nil)) {
		t.Fatalf("subject %+v", st.Subject)
	}
	ser := st.Predicate.Serialization
	if ser["method"] != "files" || ser["hash_type"] != "sha256" || ser["allow_symlinks"] != false {
		t.Fatalf("serialization %v", ser)
	}
	ign := fmt.Sprint(ser["ignore_paths"])
	for _, p := range []string{".git", ".gitattributes", ".github", ".gitignore", "model.sig"} {
		if !strings.Contains(ign, p) {
			t.Errorf("ignore_paths %s lacks %s", ign, p)
		}
	}
}

func TestSymlinks(t *testing.T) {
	dir, _ := makeModel(t, 3)
	if err := os.Symlink("top-0000.json", filepath.Join(dir, "link")); err != nil {
		t.Skip(err)
	}
	s, v, _ := newPair(t, keys.Ed25519)
	if _, _, err := Sign(context.Background(), dir, s, Options{}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("sign with a symlink: err = %v", err)
	}
	b, _, err := Sign(context.Background(), dir, s, Options{AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), dir, b, v, Options{})
	if err != nil || !res.OK() {
		t.Fatalf("verify with allowed symlink: %v %v", res, err)
	}
	// Pointing the link elsewhere changes the signed content.
	os.Remove(filepath.Join(dir, "link"))
	os.Symlink("layer01/part-0001.bin", filepath.Join(dir, "link"))
	res, err = Verify(context.Background(), dir, b, v, Options{})
	if err != nil || slices.Compare(changeStrings(res.Changes), []string{"modified: link"}) != 0 {
		t.Fatalf("retargeted link: %v %v", res, err)
	}
}

// TestSingleFile signs one file: the resource is named ".".
func TestSingleFile(t *testing.T) {
	dir, names := makeModel(t, 2)
	file := filepath.Join(dir, filepath.FromSlash(names[1]))
	s, v, _ := newPair(t, keys.ECDSAP256)
	b, m, err := Sign(context.Background(), file, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Items) != 1 || m.Items[0].Name != "." {
		t.Fatalf("items %v", m.Items)
	}
	if res, err := Verify(context.Background(), file, b, v, Options{}); err != nil || !res.OK() {
		t.Fatalf("verify: %v %v", res, err)
	}
	if _, err := Verify(context.Background(), dir, b, v, Options{}); err == nil || !strings.Contains(err.Error(), "single file") {
		t.Fatalf("verify a folder with a file signature: %v", err)
	}
}

func TestFindings(t *testing.T) {
	dir, _ := makeModel(t, 5)
	s, v, _ := newPair(t, keys.ECDSAP256)
	signModel(t, dir, s)
	os.WriteFile(filepath.Join(dir, "top-0000.json"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(dir, "payload.pkl"), []byte("new"), 0o644)
	res, err := verify(t, dir, v)
	fs := Findings(res, err)
	if len(fs) != 2 {
		t.Fatalf("%d findings, want 2", len(fs))
	}
	got := map[string]string{}
	for _, f := range fs {
		got[f.RuleID] = f.Excerpt
		if f.Layer != 2 || f.Detector != Detector || f.Message == "" {
			t.Errorf("finding %+v", f)
		}
	}
	if got["model.signature.file-modified"] != "top-0000.json" || got["model.signature.file-added"] != "payload.pkl" {
		t.Fatalf("findings %v", got)
	}
	_, other, _ := newPair(t, keys.ECDSAP256)
	res, err = verify(t, dir, other)
	if fs := Findings(res, err); len(fs) != 1 || fs[0].RuleID != "model.signature.invalid" {
		t.Fatalf("bad signature findings %v", fs)
	}
	ids := map[string]bool{}
	for _, r := range Rules() {
		ids[r.ID] = true
	}
	if len(ids) != 4 {
		t.Fatalf("rules %v", ids)
	}
}
