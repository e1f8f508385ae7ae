package sbom

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampartsec/rampart/artifact/keys"
	"github.com/rampartsec/rampart/artifact/sign"
)

// maliciousPickle is a protocol 2 pickle that calls os.system("id") when
// loaded: PROTO 2, GLOBAL os system, BINUNICODE "id", TUPLE1, REDUCE, STOP.
var maliciousPickle = []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.")

// lfsPointer is a Git LFS pointer to a 4 GB file.
const lfsPointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 4000000000\n"

// safetensorsFile returns a small, valid safetensors file holding one
// float32 tensor of shape [2, 2].
func safetensorsFile() []byte {
	header := []byte(`{"__metadata__":{"format":"pt"},"classifier.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`)
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, uint64(len(header)))
	out.Write(header)
	for _, f := range []float32{0.5, -0.25, 1, 2} {
		binary.Write(&out, binary.LittleEndian, f)
	}
	return out.Bytes()
}

// testRepo copies testdata/repo into a temporary folder and adds the model
// files: a signed Hugging Face style folder (config.json and safetensors
// weights, signed with a fresh ECDSA key whose public half is returned), a
// malicious pickle and an unsigned safetensors file.
func testRepo(t *testing.T) (string, crypto.PublicKey) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "shop-ml")
	if err := os.CopyFS(root, os.DirFS("testdata/repo")); err != nil {
		t.Fatal(err)
	}
	write := func(rel string, data []byte) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("models/sentiment/model.safetensors", safetensorsFile())
	write("models/legacy/classifier.pkl", maliciousPickle)
	write("models/draft/adapter.safetensors", safetensorsFile())
	write("models/large/model-00001-of-00002.safetensors", []byte(lfsPointer))

	k, err := keys.Generate(keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "models", "sentiment")
	b, _, err := sign.Sign(context.Background(), dir, s, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.WriteSignature(sign.SignaturePathFor(dir), b); err != nil {
		t.Fatal(err)
	}
	return root, k.Public()
}

func verifier(t *testing.T, pub crypto.PublicKey) sign.Verifier {
	t.Helper()
	v, err := sign.NewKeyVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var fixedTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const fixedSerial = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"

func generate(t *testing.T, root string, opts Options) (*cdx.BOM, []byte) {
	t.Helper()
	opts.Time, opts.SerialNumber = fixedTime, fixedSerial
	bom, err := Generate(context.Background(), root, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, bom); err != nil {
		t.Fatal(err)
	}
	return bom, buf.Bytes()
}

// cycloneDXSchema compiles the CycloneDX 1.6 JSON schema from testdata,
// with no network access.
func cycloneDXSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		f, err := os.Open(filepath.Join("testdata", "schema", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func TestSchema(t *testing.T) {
	root, pub := testRepo(t)
	schema := cycloneDXSchema(t)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"verified", Options{Verifiers: []sign.Verifier{verifier(t, pub)}}},
		{"no key", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out := generate(t, root, tc.opts)
			if err := validate(schema, out); err != nil {
				t.Fatalf("the BOM does not validate against CycloneDX 1.6: %v\n%s", err, out)
			}
			if !bytes.Contains(out, []byte(`"specVersion": "1.6"`)) {
				t.Error("specVersion is not 1.6")
			}
		})
	}

	// The acceptance corpus of rampart scan, three repositories shaped like
	// real ones, validates too, with a component for each of its models.
	for _, repo := range []string{"ml-training", "inference-service", "notebook-project"} {
		t.Run(repo, func(t *testing.T) {
			bom, out := generate(t, filepath.Join("..", "scan", "testdata", "repos", repo), Options{})
			if err := validate(schema, out); err != nil {
				t.Fatalf("the BOM does not validate against CycloneDX 1.6: %v", err)
			}
			libs, models := 0, 0
			for _, c := range *bom.Components {
				switch c.Type {
				case cdx.ComponentTypeLibrary:
					libs++
				case cdx.ComponentTypeMachineLearningModel:
					models++
				}
			}
			if libs < 5 {
				t.Errorf("%d library components", libs)
			}
			if want := map[string]int{"ml-training": 2, "inference-service": 0, "notebook-project": 1}[repo]; models != want {
				t.Errorf("%d model components, want %d", models, want)
			}
		})
	}

	// The validation is not vacuous: broken BOMs fail it.
	_, out := generate(t, root, Options{})
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for name, breakIt := range map[string]func(m map[string]any){
		"unknown component type": func(m map[string]any) {
			m["components"].([]any)[0].(map[string]any)["type"] = "spaceship"
		},
		"bad hash": func(m map[string]any) {
			for _, c := range m["components"].([]any) {
				if hs, ok := c.(map[string]any)["hashes"].([]any); ok {
					hs[0].(map[string]any)["content"] = "not-hex"
					return
				}
			}
		},
		"serial number not a urn:uuid": func(m map[string]any) { m["serialNumber"] = "12345" },
		"component without a name": func(m map[string]any) {
			delete(m["components"].([]any)[0].(map[string]any), "name")
		},
	} {
		var m map[string]any
		json.Unmarshal(out, &m)
		breakIt(m)
		broken, _ := json.Marshal(m)
		if err := validate(schema, broken); err == nil {
			t.Errorf("%s: a broken BOM passed validation", name)
		}
	}
}

// find returns the component with bom-ref ref, searching nested ones too.
func find(cs *[]cdx.Component, ref string) *cdx.Component {
	if cs == nil {
		return nil
	}
	for i := range *cs {
		c := &(*cs)[i]
		if c.BOMRef == ref {
			return c
		}
		if n := find(c.Components, ref); n != nil {
			return n
		}
	}
	return nil
}

// checkRefs checks that every ref of the dependency graph names a
// component or the root, once, and that dependsOn lists are sorted and
// unique.
func checkRefs(t *testing.T, bom *cdx.BOM) {
	t.Helper()
	if bom.Dependencies == nil {
		return
	}
	seen := map[string]bool{}
	for _, d := range *bom.Dependencies {
		if d.Ref != rootRef && find(bom.Components, d.Ref) == nil {
			t.Errorf("dependency ref %s names no component", d.Ref)
		}
		if seen[d.Ref] {
			t.Errorf("two entries for %s", d.Ref)
		}
		seen[d.Ref] = true
		if d.Dependencies == nil {
			t.Errorf("%s: nil dependsOn", d.Ref)
			continue
		}
		for i, ref := range *d.Dependencies {
			if find(bom.Components, ref) == nil {
				t.Errorf("%s dependsOn %s, which names no component", d.Ref, ref)
			}
			if ref == d.Ref || i > 0 && (*d.Dependencies)[i-1] >= ref {
				t.Errorf("%s: dependsOn not sorted, unique and without itself: %v", d.Ref, *d.Dependencies)
			}
		}
	}
}

// dependsOn maps each ref of the dependency graph to its dependsOn.
func dependsOn(bom *cdx.BOM) map[string][]string {
	out := map[string][]string{}
	if bom.Dependencies == nil {
		return out
	}
	for _, d := range *bom.Dependencies {
		out[d.Ref] = []string{}
		if d.Dependencies != nil {
			out[d.Ref] = *d.Dependencies
		}
	}
	return out
}

func prop(c *cdx.Component, name string) string {
	if c == nil || c.Properties == nil {
		return ""
	}
	for _, p := range *c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func hashOf(c *cdx.Component, alg cdx.HashAlgorithm) string {
	if c == nil || c.Hashes == nil {
		return ""
	}
	for _, h := range *c.Hashes {
		if h.Algorithm == alg {
			return h.Value
		}
	}
	return ""
}

func sha256Hex(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func TestContent(t *testing.T) {
	root, pub := testRepo(t)
	bom, _ := generate(t, root, Options{Verifiers: []sign.Verifier{verifier(t, pub)}})

	if got := bom.Metadata.Component.Name; got != "shop-ml" {
		t.Errorf("root component %q, want shop-ml", got)
	}
	if tools := *bom.Metadata.Tools.Components; len(tools) != 1 || tools[0].Name != "rampart" || tools[0].Version == "" {
		t.Errorf("tools = %+v", tools)
	}
	if bom.Metadata.Timestamp != "2026-11-27T12:00:00Z" || bom.SerialNumber != fixedSerial {
		t.Errorf("timestamp %q serial %q", bom.Metadata.Timestamp, bom.SerialNumber)
	}

	t.Run("packages", func(t *testing.T) {
		for _, tc := range []struct {
			purl, file  string
			alg         cdx.HashAlgorithm
			hash        string
			scope       cdx.Scope
			wantNoHashs bool
		}{
			{purl: "pkg:pypi/fastapi@0.111.0", file: "requirements.txt", alg: cdx.HashAlgoSHA256,
				hash: "97ecbf994be0bcbdadedf88c3150252bed7b2087075ac99735403b1b76cc8fc0", scope: cdx.ScopeRequired},
			// The same package in poetry.lock: one component, both files.
			{purl: "pkg:pypi/fastapi@0.111.0", file: "service/poetry.lock", alg: cdx.HashAlgoSHA256,
				hash: "b9db9dd147c91cb8b769f7183535773d8741dd46f9dc6676cd82eab510228cd7", scope: cdx.ScopeRequired},
			// npm SRI integrity, base64 → hex.
			{purl: "pkg:npm/%40anthropic-ai/sdk@0.24.3", file: "web/package-lock.json", alg: cdx.HashAlgoSHA512,
				hash: "f75eb02573ba4fa93c47a04001c2e12cfbffa672c6cbb6121016576755d315b2dc4d913ca13cb7a035bd5897fd28a67032f55c78f21fa134afcd71d1706c6441", scope: cdx.ScopeRequired},
			{purl: "pkg:cargo/candle-core@0.6.0", file: "embedder/Cargo.lock", alg: cdx.HashAlgoSHA256,
				hash: "d5b18de020c2729dbf7ac390325312644808b6ba9b7962f1f724e9185b1d53c7", scope: cdx.ScopeRequired},
			// Go's h1: hashes are not artifact digests: none kept.
			{purl: "pkg:golang/github.com/gin-gonic/gin@v1.10.0", file: "gateway/go.mod", scope: cdx.ScopeRequired, wantNoHashs: true},
		} {
			c := find(bom.Components, tc.purl)
			if c == nil {
				t.Errorf("%s: no component", tc.purl)
				continue
			}
			if c.PackageURL != tc.purl || c.Type != cdx.ComponentTypeLibrary || c.Scope != tc.scope {
				t.Errorf("%s: purl %q type %q scope %q", tc.purl, c.PackageURL, c.Type, c.Scope)
			}
			if tc.wantNoHashs {
				if c.Hashes != nil {
					t.Errorf("%s: hashes %v, want none", tc.purl, *c.Hashes)
				}
			} else if !slices.Contains(*c.Hashes, cdx.Hash{Algorithm: tc.alg, Value: tc.hash}) {
				t.Errorf("%s: hashes %v lack %s %s", tc.purl, *c.Hashes, tc.alg, tc.hash)
			}
			if c.Evidence == nil || !slices.ContainsFunc(*c.Evidence.Occurrences, func(o cdx.EvidenceOccurrence) bool { return o.Location == tc.file }) {
				t.Errorf("%s: no occurrence in %s: %+v", tc.purl, tc.file, c.Evidence)
			}
		}
		// Development dependencies are optional.
		for _, purl := range []string{"pkg:npm/vitest@1.6.0", "pkg:pypi/pytest@8.2.2"} {
			if c := find(bom.Components, purl); c == nil || c.Scope != cdx.ScopeOptional {
				t.Errorf("%s: want an optional component, got %+v", purl, c)
			}
		}
		// go.sum beside go.mod adds no versions the build does not use.
		if c := find(bom.Components, "pkg:golang/golang.org/x/crypto@v0.23.0"); c != nil {
			t.Errorf("go.sum's unused version listed: %+v", c)
		}
		// A package named unpinned in pyproject.toml and pinned in
		// poetry.lock is one component.
		if c := find(bom.Components, "pkg:pypi/fastapi"); c != nil {
			t.Errorf("unversioned duplicate kept: %+v", c)
		}
	})

	t.Run("dependencies", func(t *testing.T) {
		if bom.Dependencies == nil || len(*bom.Dependencies) == 0 {
			t.Fatalf("dependencies = %+v", bom.Dependencies)
		}
		d := (*bom.Dependencies)[0]
		if d.Ref != "application" {
			t.Errorf("ref %q", d.Ref)
		}
		checkRefs(t, bom)
		graph := dependsOn(bom)
		for _, tc := range []struct {
			ref  string
			want []string // nil: no entry (unknown)
		}{
			// Node's lookup: openai's node-fetch is its nested 2.6.7.
			{"pkg:npm/openai@4.52.0", []string{"pkg:npm/node-fetch@2.6.7"}},
			{"pkg:npm/%40anthropic-ai/sdk@0.24.3", []string{"pkg:npm/node-fetch@2.7.0"}},
			{"pkg:npm/node-fetch@2.7.0", []string{}},
			{"pkg:cargo/candle-core@0.6.0", []string{"pkg:cargo/safetensors@0.4.3"}},
			// poetry.lock names pydantic and starlette, which it lacks.
			{"pkg:pypi/fastapi@0.111.0", []string{}},
			// go.mod and requirements.txt record no graph.
			{"pkg:golang/github.com/gin-gonic/gin@v1.10.0", nil},
		} {
			got, ok := graph[tc.ref]
			if tc.want == nil {
				if ok {
					t.Errorf("%s: dependsOn %v, want no entry", tc.ref, got)
				}
				continue
			}
			if !ok || !slices.Equal(got, tc.want) {
				t.Errorf("%s: dependsOn %v (entry %v), want %v", tc.ref, got, ok, tc.want)
			}
		}
		for _, want := range []string{"pkg:npm/openai@4.52.0", "pkg:golang/github.com/gin-gonic/gin@v1.10.0", "pkg:pypi/fastapi@0.111.0"} {
			if !slices.Contains(*d.Dependencies, want) {
				t.Errorf("root does not depend on %s: %v", want, *d.Dependencies)
			}
		}
		for _, indirect := range []string{"pkg:npm/node-fetch@2.7.0", "pkg:golang/golang.org/x/crypto@v0.24.0"} {
			if slices.Contains(*d.Dependencies, indirect) {
				t.Errorf("root depends on the transitive %s", indirect)
			}
		}
		for _, ref := range *d.Dependencies {
			if find(bom.Components, ref) == nil {
				t.Errorf("dependsOn %s names no component", ref)
			}
		}
	})

	t.Run("models", func(t *testing.T) {
		for _, tc := range []struct {
			rel, format, status, severity string
		}{
			{"models/sentiment/model.safetensors", "safetensors", SignatureVerified, "none"},
			{"models/legacy/classifier.pkl", "pickle", SignatureUnsigned, "critical"},
			{"models/draft/adapter.safetensors", "safetensors", SignatureUnsigned, "none"},
		} {
			c := find(bom.Components, "model:"+tc.rel)
			if c == nil {
				t.Errorf("%s: no component", tc.rel)
				continue
			}
			if c.Type != cdx.ComponentTypeMachineLearningModel {
				t.Errorf("%s: type %q", tc.rel, c.Type)
			}
			if got, want := hashOf(c, cdx.HashAlgoSHA256), sha256Hex(t, filepath.Join(root, tc.rel)); got != want {
				t.Errorf("%s: SHA-256 %s, want %s", tc.rel, got, want)
			}
			if len(hashOf(c, cdx.HashAlgoSHA512)) != 128 {
				t.Errorf("%s: no SHA-512", tc.rel)
			}
			if got := prop(c, PropModelFormat); got != tc.format {
				t.Errorf("%s: format %q, want %q", tc.rel, got, tc.format)
			}
			if got := prop(c, PropSignatureStatus); got != tc.status {
				t.Errorf("%s: signature %q, want %q (%s)", tc.rel, got, tc.status, prop(c, PropSignatureDetail))
			}
			if prop(c, PropScanStatus) != "scanned" {
				t.Errorf("%s: scan status %q", tc.rel, prop(c, PropScanStatus))
			}
			if got := prop(c, PropScanSeverity); got != tc.severity {
				t.Errorf("%s: scan severity %q, want %q", tc.rel, got, tc.severity)
			}
		}
		pkl := find(bom.Components, "model:models/legacy/classifier.pkl")
		if prop(pkl, PropScanFindings) == "0" || !strings.Contains(prop(pkl, PropScanRules), "pickle") {
			t.Errorf("pickle scan result: %v", *pkl.Properties)
		}
		st := find(bom.Components, "model:models/sentiment/model.safetensors")
		if prop(st, PropSignatureFile) != "models/sentiment/model.sig" || prop(st, PropSignatureSigner) == "" {
			t.Errorf("signature properties: %v", *st.Properties)
		}
		if prop(st, PropModelFolder) != "models/sentiment" || prop(pkl, PropModelFolder) != "" {
			t.Errorf("model folder: %v", *st.Properties)
		}
		if st.ModelCard == nil || st.ModelCard.ModelParameters.ArchitectureFamily != "distilbert" ||
			st.ModelCard.ModelParameters.ModelArchitecture != "DistilBertForSequenceClassification" {
			t.Errorf("model card from config.json: %+v", st.ModelCard)
		}
		// Only model files: no config.json, CSV, JSON or README.
		n := 0
		for _, c := range *bom.Components {
			if c.Type == cdx.ComponentTypeMachineLearningModel {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%d model components, want 4", n)
		}
		lfs := find(bom.Components, "model:models/large/model-00001-of-00002.safetensors")
		if hashOf(lfs, cdx.HashAlgoSHA256) != "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393" ||
			hashOf(lfs, cdx.HashAlgoSHA512) != "" || prop(lfs, PropModelFormat) != FormatLFSPointer ||
			prop(lfs, PropModelSize) != "4000000000" || !strings.HasPrefix(prop(lfs, PropScanStatus), "not-scanned") ||
			prop(lfs, PropScanSeverity) != "" {
			t.Errorf("Git LFS pointer: %+v", *lfs.Properties)
		}
	})

	t.Run("datasets", func(t *testing.T) {
		card := find(bom.Components, "data:data/reviews/README.md")
		if card == nil || card.Type != cdx.ComponentTypeData || card.Name != "Product Reviews (mini)" ||
			card.Licenses == nil || (*card.Licenses)[0].License.ID != "CC-BY-4.0" ||
			!strings.HasPrefix(card.Description, "Short English product reviews") ||
			prop(card, PropDataFormat) != KindDatasetCard {
			t.Fatalf("dataset card component: %+v", card)
		}
		for _, rel := range []string{"data/reviews/data/train-00000-of-00001.csv", "data/reviews/data/test.csv"} {
			f := find(bom.Components, "data:data/reviews/README.md#"+rel)
			if got, want := hashOf(f, cdx.HashAlgoSHA256), sha256Hex(t, filepath.Join(root, rel)); got != want {
				t.Errorf("%s: SHA-256 %q, want %q", rel, got, want)
			}
		}
		if find(bom.Components, "data:models/README.md") != nil {
			t.Error("a model card was taken for a dataset card")
		}

		dp := find(bom.Components, "data:data/prices/datapackage.json")
		if dp == nil || dp.Name != "Retail prices (sample)" || (*dp.Licenses)[0].License.ID != "ODC-By-1.0" ||
			dp.ExternalReferences == nil || (*dp.ExternalReferences)[0].URL != "https://data.example.com/retail-prices" {
			t.Fatalf("datapackage component: %+v", dp)
		}
		prices := find(bom.Components, "data:data/prices/datapackage.json#data/prices/prices.csv")
		if got, want := hashOf(prices, cdx.HashAlgoSHA256), sha256Hex(t, filepath.Join(root, "data/prices/prices.csv")); got != want || prop(prices, PropWarning) != "" {
			t.Errorf("prices.csv: %+v", prices)
		}
		missing := find(bom.Components, "data:data/prices/datapackage.json#data/prices/archive/prices-2019.csv")
		if prop(missing, PropDataLocal) != "false" {
			t.Errorf("missing file: %+v", missing)
		}
		if find(bom.Components, "data:data/prices/datapackage.json#https://data.example.com/retail-prices/stores.csv") == nil {
			t.Error("remote resource not listed")
		}

		cr := find(bom.Components, "data:data/images/croissant.json")
		if cr == nil || cr.Name != "pets-captions" || prop(cr, PropDataFormat) != KindCroissant ||
			(*cr.Licenses)[0].License.ID != "CC-BY-SA-4.0" || (*cr.Licenses)[0].License.URL != "https://creativecommons.org/licenses/by-sa/4.0/" {
			t.Fatalf("croissant component: %+v", cr)
		}
		for _, rel := range []string{"data/images/labels.jsonl", "data/images/shards/captions-000.jsonl", "data/images/shards/captions-001.jsonl"} {
			f := find(bom.Components, "data:data/images/croissant.json#"+rel)
			if got, want := hashOf(f, cdx.HashAlgoSHA256), sha256Hex(t, filepath.Join(root, rel)); got != want {
				t.Errorf("%s: SHA-256 %q, want %q", rel, got, want)
			}
		}
		remote := find(bom.Components, "data:data/images/croissant.json#https://data.example.com/pets-captions/images.tar.gz")
		if hashOf(remote, cdx.HashAlgoMD5) != "0cc175b9c0f1b6a831c399e269772661" {
			t.Errorf("remote file keeps the manifest's MD5: %+v", remote)
		}
	})

	if bom.Metadata.Properties != nil {
		t.Errorf("warnings on a clean repository: %v", *bom.Metadata.Properties)
	}
}

func TestSignatureStatus(t *testing.T) {
	root, pub := testRepo(t)
	other, err := keys.Generate(keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	const ref = "model:models/sentiment/model.safetensors"
	status := func(opts Options) (string, string) {
		bom, _ := generate(t, root, opts)
		c := find(bom.Components, ref)
		return prop(c, PropSignatureStatus), prop(c, PropSignatureDetail)
	}
	if s, d := status(Options{}); s != SignatureUnverified || !strings.Contains(d, "matches") {
		t.Errorf("no key: %q %q", s, d)
	}
	if s, _ := status(Options{Verifiers: []sign.Verifier{verifier(t, other.Public())}}); s != SignatureInvalid {
		t.Errorf("wrong key: %q", s)
	}
	if s, _ := status(Options{Verifiers: []sign.Verifier{verifier(t, other.Public()), verifier(t, pub)}}); s != SignatureVerified {
		t.Errorf("second key right: %q", s)
	}
	// The weights change after signing.
	p := filepath.Join(root, "models/sentiment/model.safetensors")
	data := safetensorsFile()
	data[len(data)-1] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, d := status(Options{Verifiers: []sign.Verifier{verifier(t, pub)}}); s != SignatureInvalid || !strings.Contains(d, "modified") {
		t.Errorf("modified file: %q %q", s, d)
	}
	if s, d := status(Options{}); s != SignatureUnverified || !strings.Contains(d, "NOT match") {
		t.Errorf("modified file, no key: %q %q", s, d)
	}
	// A file added beside the signed ones is not covered.
	if err := os.WriteFile(filepath.Join(root, "models/sentiment/extra.safetensors"), safetensorsFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	bom, _ := generate(t, root, Options{})
	if c := find(bom.Components, "model:models/sentiment/extra.safetensors"); prop(c, PropSignatureStatus) != SignatureUnsigned ||
		!strings.Contains(prop(c, PropSignatureDetail), "does not list") {
		t.Errorf("added file: %+v", c)
	}
	// A signature that is not one.
	if err := os.WriteFile(filepath.Join(root, "models/legacy/model.sig"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	bom, _ = generate(t, root, Options{})
	if c := find(bom.Components, "model:models/legacy/classifier.pkl"); prop(c, PropSignatureStatus) != SignatureInvalid {
		t.Errorf("garbage signature: %+v", c)
	}
}

func TestDeterministic(t *testing.T) {
	root, pub := testRepo(t)
	opts := Options{Verifiers: []sign.Verifier{verifier(t, pub)}, Workers: 4}
	_, a := generate(t, root, opts)
	opts.Workers = 1
	_, b := generate(t, root, opts)
	if !bytes.Equal(a, b) {
		t.Error("two runs over the same tree differ")
	}
	// Without injected values the serial number is a fresh random UUID.
	b1, err := Generate(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := Generate(context.Background(), root, Options{})
	if b1.SerialNumber == b2.SerialNumber || !strings.HasPrefix(b1.SerialNumber, "urn:uuid:") {
		t.Errorf("serial numbers %q %q", b1.SerialNumber, b2.SerialNumber)
	}
}

func TestErrors(t *testing.T) {
	if _, err := Generate(context.Background(), filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("missing root: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root, _ := testRepo(t)
	if _, err := Generate(ctx, root, Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestMalformedManifests(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"a/datapackage.json": `{"name": "x", "resources": [`,
		"b/datapackage.json": `{"name": "y", "resources": [{"name": "r", "path": 42}]}`,
		"c/croissant.json":   `{"@context": {}, "@type": "sc:Dataset", "distribution": "nope"}`,
		"d/README.md":        "---\nconfigs: [unclosed\n---\n",
		"e/README.md":        "---\nlicense: mit\n---\n# not a dataset card\n",
		"g/README.md":        "---\nconfigs:\n- config_name: default\n  data_files: train/*.parquet\n---\n",
		"f/requirements.txt": "numpy==1.26.4 --hash=sha256:zz\n",
		"h/README.md":        "---\ntitle: [a site page\n---\n", // not a dataset card
		"i/metadata.json":    `{"keras_version": "3.1.0", `,     // not Croissant
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bom, out := generate(t, root, Options{})
	if err := validate(cycloneDXSchema(t), out); err != nil {
		t.Fatalf("invalid BOM: %v", err)
	}
	var warnings []string
	if bom.Metadata.Properties != nil {
		for _, p := range *bom.Metadata.Properties {
			warnings = append(warnings, p.Value)
		}
	}
	for _, want := range []string{"a/datapackage.json: malformed", "c/croissant.json: malformed", "d/README.md: malformed"} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in %q", want, warnings)
		}
	}
	for _, unrelated := range []string{"h/README.md", "i/metadata.json"} {
		if slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, unrelated) }) {
			t.Errorf("a warning about %s, which is no data manifest: %q", unrelated, warnings)
		}
	}
	if c := find(bom.Components, "data:b/datapackage.json"); c == nil || !strings.Contains(prop(c, PropWarning), "path is neither") {
		t.Errorf("bad resource path: %+v", c)
	}
	if c := find(bom.Components, "data:g/README.md#train/*.parquet"); prop(c, PropDataLocal) != "false" {
		t.Errorf("a pattern that matches nothing: %+v", c)
	}
	if find(bom.Components, "data:e/README.md") != nil {
		t.Error("a README with only a licence became a dataset")
	}
	if c := find(bom.Components, "pkg:pypi/numpy@1.26.4"); c == nil || c.Hashes != nil {
		t.Errorf("bad hash: %+v", c)
	}
}

func TestConvertHash(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []cdx.Hash
	}{
		{"sha256:97ECBF994BE0BCBDADEDF88C3150252BED7B2087075AC99735403B1B76CC8FC0",
			[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: "97ecbf994be0bcbdadedf88c3150252bed7b2087075ac99735403b1b76cc8fc0"}}},
		{"md5:0cc175b9c0f1b6a831c399e269772661", []cdx.Hash{{Algorithm: cdx.HashAlgoMD5, Value: "0cc175b9c0f1b6a831c399e269772661"}}},
		{"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", []cdx.Hash{{Algorithm: cdx.HashAlgoSHA1, Value: "da39a3ee5e6b4b0d3255bfef95601890afd80709"}}},
		{"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg== sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=?x",
			[]cdx.Hash{
				{Algorithm: cdx.HashAlgoSHA512, Value: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
				{Algorithm: cdx.HashAlgoSHA1, Value: "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
			}},
		{"h1:nTuyha1TYqgedzytsKYqna+DfLos46nTv2ygFy86HFU=", nil}, // Go dirhash: not an artifact digest
		{"sha256:abcd", nil},                             // wrong length
		{"blake2b_256:" + strings.Repeat("ab", 32), nil}, // not mapped
		{"sha512-!!!", nil},
		{"", nil},
	} {
		if got := convertHash(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("convertHash(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSPDX(t *testing.T) {
	// Every identifier the package emits is one the schema accepts.
	data, err := os.ReadFile("testdata/schema/spdx.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	for _, id := range spdxByLower {
		if !slices.Contains(schema.Enum, id) {
			t.Errorf("%s is not an SPDX identifier of the schema", id)
		}
	}
	for in, want := range map[string]string{
		"apache-2.0": "Apache-2.0", "MIT": "MIT", "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0", "odc-by": "ODC-By-1.0",
		"https://creativecommons.org/licenses/by/4.0/":             "CC-BY-4.0",
		"https://creativecommons.org/licenses/by-nc/4.0/legalcode": "CC-BY-NC-4.0",
		"https://creativecommons.org/publicdomain/zero/1.0/":       "CC0-1.0",
		"http://opendatacommons.org/licenses/odbl/1.0/":            "ODbL-1.0",
		"https://creativecommons.org/licenses/by/9.9/":             "",
		"other": "", "llama2": "", "openrail": "",
	} {
		if got := spdxID(in); got != want {
			t.Errorf("spdxID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLFSPointer(t *testing.T) {
	oid := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in   string
		ok   bool
		size int64
	}{
		{"version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize 12345\n", true, 12345},
		{"version https://git-lfs.github.com/spec/v1\next-0-foo sha256:" + oid + "\noid sha256:" + oid + "\nsize 0", true, 0},
		{"version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\n", false, 0},            // no size
		{"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n", false, 0},            // short oid
		{"version https://git-lfs.github.com/spec/v1\noid sha1:" + oid[:40] + "\nsize 1\n", false, 0}, // other hash
		{"version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize -1\n", false, 0},
		{"oid sha256:" + oid + "\nsize 1\n", false, 0},
	} {
		got, size, ok := parseLFSPointer([]byte(tc.in))
		if ok != tc.ok || ok && (got != oid || size != tc.size) {
			t.Errorf("parseLFSPointer(%q) = %q, %d, %v", tc.in, got, size, ok)
		}
	}
}

// TestSignatureVectors checks the signature status against the signatures
// that the reference implementation (model_signing 0.2 to 1.1) wrote, kept
// by artifact/sign.
func TestSignatureVectors(t *testing.T) {
	const vectors = "../artifact/sign/testdata/vectors"
	pub, err := keys.LoadPublic(filepath.Join(vectors, "keys", "signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := os.ReadFile(filepath.Join(vectors, "keys", "ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := sign.ParseCertificates(certs)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := sign.NewCertVerifier(chain)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(vectors)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "keys" {
			continue
		}
		n++
		dir := filepath.Join(vectors, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			file := filepath.Join(dir, "signme-1")
			digest, err := hex.DecodeString(sha256Hex(t, file))
			if err != nil {
				t.Fatal(err)
			}
			status := func(vs ...sign.Verifier) sigStatus {
				g := &generator{ctx: context.Background(), root: dir, isDir: true, opts: Options{Verifiers: vs}}
				return newSigChecker(g).status(file, digest)
			}
			if s := status(); s.status != SignatureUnverified || !strings.Contains(s.detail, "matches") || s.file != "model.sig" {
				t.Errorf("no key: %+v", s)
			}
			if s := status(verifier(t, pub), cv); s.status != SignatureVerified || s.signer == "" {
				t.Errorf("with the key and the chain: %+v", s)
			}
			other, _ := keys.Generate(keys.ECDSAP256)
			if s := status(verifier(t, other.Public())); s.status != SignatureInvalid {
				t.Errorf("with another key: %+v", s)
			}
			if ig := filepath.Join(dir, "ignore-me"); fileExists(ig) {
				g := &generator{ctx: context.Background(), root: dir, isDir: true}
				s := newSigChecker(g).status(ig, nil)
				// model_signing records its ignore paths since 1.1.
				recorded := strings.HasPrefix(e.Name(), "v1.1")
				if s.status != SignatureUnsigned || strings.Contains(s.detail, "on purpose") != recorded {
					t.Errorf("ignore-me: %+v", s)
				}
			}
		})
	}
	if n < 5 {
		t.Fatalf("%d vectors found", n)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestSingleFile(t *testing.T) {
	root, _ := testRepo(t)
	bom, out := generate(t, filepath.Join(root, "models", "legacy", "classifier.pkl"), Options{})
	if err := validate(cycloneDXSchema(t), out); err != nil {
		t.Fatal(err)
	}
	if bom.Components == nil || len(*bom.Components) != 1 {
		t.Fatalf("components: %s", out)
	}
	c := (*bom.Components)[0]
	if c.BOMRef != "model:classifier.pkl" || prop(&c, PropScanSeverity) != "critical" || bom.Metadata.Component.Name != "classifier.pkl" {
		t.Errorf("single model file: %+v", c)
	}

	bom, _ = generate(t, filepath.Join(root, "web", "package-lock.json"), Options{})
	if c := find(bom.Components, "pkg:npm/openai@4.52.0"); c == nil || (*c.Evidence.Occurrences)[0].Location != "package-lock.json" {
		t.Errorf("single lockfile: %+v", c)
	}
}

func TestSpecialFiles(t *testing.T) {
	// A FIFO under a model or manifest name is neither opened nor listed
	// (opening it would block).
	root := t.TempDir()
	for _, name := range []string{"model.pt", "config.json", "datapackage.json"} {
		if err := mkfifo(filepath.Join(root, name)); err != nil {
			t.Skip("no FIFOs here:", err)
		}
	}
	os.WriteFile(filepath.Join(root, "w.safetensors"), safetensorsFile(), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bom, err := Generate(ctx, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if bom.Components == nil || len(*bom.Components) != 1 || (*bom.Components)[0].BOMRef != "model:w.safetensors" {
		t.Errorf("components: %+v", bom.Components)
	}
}

func TestDataLinksLeavingRoot(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.csv"), []byte("a,b\n"), 0o644)
	root := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	os.WriteFile(filepath.Join(root, "datapackage.json"), []byte(`{"name":"x","resources":[
		{"path":"linked/secret.csv"},{"path":"linked/*.csv"},{"path":"../x.csv"},{"path":"missing/y.csv"}]}`), 0o644)
	bom, _ := generate(t, root, Options{})
	c := find(bom.Components, "data:datapackage.json")
	if c == nil {
		t.Fatal("no dataset")
	}
	if c.Components != nil {
		for _, f := range *c.Components {
			if strings.Contains(f.Name, "secret") || f.Hashes != nil {
				t.Errorf("a file outside the root was listed: %+v", f)
			}
		}
	}
	if find(bom.Components, "data:datapackage.json#missing/y.csv") == nil {
		t.Error("a missing file inside the root is listed as not local")
	}
	var warnings []string
	for _, p := range *c.Properties {
		if p.Name == PropWarning {
			warnings = append(warnings, p.Value)
		}
	}
	if len(warnings) < 2 {
		t.Errorf("warnings: %q", warnings)
	}
}

// TestPackageSources records where packages come from: the registry a
// lockfile names, and the repository and commit of a VCS pin.
func TestPackageSources(t *testing.T) {
	const sha = "3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b"
	dir := t.TempDir()
	req := "--index-url https://user:s3cret@pypi.acme.internal/simple\n" +
		"deepspeed @ git+https://github.com/microsoft/DeepSpeed.git@" + sha + "\n" +
		"numpy==1.26.4\n"
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	bom, out := generate(t, dir, Options{})
	if err := validate(cycloneDXSchema(t), out); err != nil {
		t.Fatalf("the BOM does not validate: %v", err)
	}
	if bytes.Contains(out, []byte("s3cret")) {
		t.Error("the BOM holds the index password")
	}
	np := find(bom.Components, "pkg:pypi/numpy@1.26.4")
	if np == nil || prop(np, PropSource) != "https://REDACTED@pypi.acme.internal/simple" {
		t.Errorf("numpy source = %q", prop(np, PropSource))
	}
	var ds *cdx.Component
	for i, c := range *bom.Components {
		if c.Name == "deepspeed" {
			ds = &(*bom.Components)[i]
		}
	}
	if ds == nil || prop(ds, PropCommit) != sha || ds.ExternalReferences == nil ||
		(*ds.ExternalReferences)[0].URL != "https://github.com/microsoft/DeepSpeed" || (*ds.ExternalReferences)[0].Type != cdx.ERTypeVCS {
		t.Errorf("deepspeed component: %+v", ds)
	}
}

// TestDependencyGraph checks the graph of a folder with a package-lock.json
// (direct marks, nested copies), a yarn.lock (a graph without direct
// marks) and a requirements.txt (no graph).
func TestDependencyGraph(t *testing.T) {
	bom, data := generate(t, "testdata/graph", Options{})
	if err := validate(cycloneDXSchema(t), data); err != nil {
		t.Fatalf("schema: %v", err)
	}
	checkRefs(t, bom)
	graph := dependsOn(bom)

	// A transitive chain: openai → node-fetch → whatwg-url (the copy
	// nested under node-fetch) → tr46 and webidl-conversions (nested too).
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"pkg:npm/openai@4.52.0", []string{"pkg:npm/abort-controller@3.0.0", "pkg:npm/node-fetch@2.7.0"}},
		{"pkg:npm/node-fetch@2.7.0", []string{"pkg:npm/whatwg-url@5.0.0"}},
		{"pkg:npm/whatwg-url@5.0.0", []string{"pkg:npm/tr46@0.0.3", "pkg:npm/webidl-conversions@3.0.1"}},
		{"pkg:npm/whatwg-url@14.0.0", []string{"pkg:npm/tr46@5.0.0", "pkg:npm/webidl-conversions@7.0.0"}},
		{"pkg:npm/%40isaacs/cliui@8.0.2", []string{"pkg:npm/string-width@4.2.3"}},
		{"pkg:npm/punycode@2.3.1", []string{}},
		{"pkg:npm/table@6.8.2", []string{"pkg:npm/lodash@4.17.21", "pkg:npm/string-width@4.2.3"}},
	} {
		if got, ok := graph[tc.ref]; !ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: dependsOn %v (entry %v), want %v", tc.ref, got, ok, tc.want)
		}
	}
	// The requirements file records no graph: no entry, dependencies
	// unknown.
	if got, ok := graph["pkg:pypi/requests@2.32.3"]; ok {
		t.Errorf("requests: dependsOn %v, want no entry", got)
	}

	// The root depends on the direct packages of package-lock.json and
	// requirements.txt, and on what nothing in yarn.lock requires.
	root := graph[rootRef]
	for _, want := range []string{
		"pkg:npm/openai@4.52.0", "pkg:npm/jsdom@24.1.0", "pkg:npm/chokidar@3.6.0", "pkg:pypi/requests@2.32.3",
		"pkg:npm/%40babel/template@7.10.4", "pkg:npm/rollup@2.79.1", "pkg:npm/table@6.8.2", "pkg:npm/webpack-cli@1.5.3",
	} {
		if !slices.Contains(root, want) {
			t.Errorf("root does not depend on %s: %v", want, root)
		}
	}
	for _, indirect := range []string{"pkg:npm/node-fetch@2.7.0", "pkg:npm/whatwg-url@5.0.0", "pkg:npm/lodash@4.17.21", "pkg:npm/chalk@2.4.2", "pkg:npm/%40babel/highlight@7.13.10"} {
		if slices.Contains(root, indirect) {
			t.Errorf("root depends on the transitive %s", indirect)
		}
	}
	// Every library component from a file with a graph has an entry.
	for _, c := range *bom.Components {
		if _, ok := graph[c.BOMRef]; !ok && c.BOMRef != "pkg:pypi/requests@2.32.3" {
			t.Errorf("%s: no dependency entry", c.BOMRef)
		}
	}
	// The same folder gives the same graph.
	if _, again := generate(t, "testdata/graph", Options{}); !bytes.Equal(data, again) {
		t.Error("two runs differ")
	}
}

// TestDataFilesDoubleStar: "**" in a dataset card's data_files matches
// any depth of folders, zero included, and nothing outside its prefix.
func TestDataFilesDoubleStar(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"README.md":          "---\nconfigs:\n- config_name: default\n  data_files: data/**/*.parquet\n---\n# d\n",
		"data/a.parquet":     "a",
		"data/x/b.parquet":   "b",
		"data/x/y/c.parquet": "c",
		"data/x/y/c.csv":     "not parquet",
		"other/d.parquet":    "outside the prefix",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bom, _ := generate(t, root, Options{})
	var got []string
	for _, c := range *bom.Components {
		if c.Type != cdx.ComponentTypeData || c.Components == nil {
			continue
		}
		for _, f := range *c.Components {
			if f.Hashes != nil {
				got = append(got, f.Name)
			}
		}
	}
	slices.Sort(got)
	want := []string{"data/a.parquet", "data/x/b.parquet", "data/x/y/c.parquet"}
	if !slices.Equal(got, want) {
		t.Fatalf("hashed data files = %q, want %q", got, want)
	}
}

func TestMatchSegments(t *testing.T) {
	cases := []struct {
		pat, name string
		want      bool
	}{
		{"**/*.parquet", "a.parquet", true},
		{"**/*.parquet", "x/y/a.parquet", true},
		{"x/**/a.csv", "x/a.csv", true},
		{"x/**/a.csv", "x/1/2/3/a.csv", true},
		{"x/**/a.csv", "y/1/a.csv", false},
		{"**", "any/thing", true},
		{"**/**/*.csv", "a.csv", true},
		{"train-*/**/*.json", "train-01/part/z.json", true},
		{"train-*/**/*.json", "test-01/part/z.json", false},
		{"*.csv", "x/a.csv", false},
		{"**/a/**/b", "a/b", true},
		{"**/a/**/b", "z/a/y/b/c", false},
	}
	for _, c := range cases {
		if got := matchSegments(strings.Split(c.pat, "/"), strings.Split(c.name, "/")); got != c.want {
			t.Errorf("matchSegments(%q, %q) = %v, want %v", c.pat, c.name, got, c.want)
		}
	}
}

// TestHDF5DataIsNoModel: an HDF5 file Keras wrote is a model; one of data
// (testdata/hdf5/readings.h5, built by scan/model/internal/fixtures with
// a title and units and no Keras attribute) is not.
func TestHDF5DataIsNoModel(t *testing.T) {
	root := t.TempDir()
	for src, dst := range map[string]string{
		filepath.Join("..", "scan", "model", "keras", "testdata", "benign.h5"): "model.h5",
		filepath.Join("testdata", "hdf5", "readings.h5"):                       "readings.h5",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	models := modelNames(t, root)
	if !slices.Equal(models, []string{"model.h5"}) {
		t.Fatalf("model components = %q, want only model.h5", models)
	}
}

// TestCompressedAndSkopsModels: joblib names a compressed model after its
// compressor (model.pkl.xz), and a .skops file is a ZIP; both are models,
// while a compressed file of another kind is not.
func TestCompressedAndSkopsModels(t *testing.T) {
	root := t.TempDir()
	xzModel, err := os.ReadFile(filepath.Join("..", "scan", "model", "archive", "testdata", "compressed", "evil-python.pkl.xz"))
	if err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`{"__class__": "LogisticRegression", "__module__": "sklearn.linear_model._logistic", "__loader__": "ObjectNode", "protocol": 2}`))
	zw.Close()
	for name, b := range map[string][]byte{"model.pkl.xz": xzModel, "logs.txt.xz": xzModel, "clf.skops": zb.Bytes()} {
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	models := modelNames(t, root)
	if !slices.Equal(models, []string{"clf.skops", "model.pkl.xz"}) {
		t.Fatalf("model components = %q, want clf.skops and model.pkl.xz", models)
	}
}

// modelNames returns the sorted names of the machine-learning-model
// components of root's BOM.
func modelNames(t *testing.T, root string) []string {
	t.Helper()
	bom, _ := generate(t, root, Options{})
	var models []string
	for _, c := range *bom.Components {
		if c.Type == cdx.ComponentTypeMachineLearningModel {
			models = append(models, c.Name)
		}
	}
	slices.Sort(models)
	return models
}
