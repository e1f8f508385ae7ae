package gguf

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/ggufwrite"
	"github.com/rampartsec/rampart/scan/model/template"
)

const chatML = `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

const ssti = `{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}`

// model returns a small valid GGUF file description.
func model() *ggufwrite.File {
	return &ggufwrite.File{
		KVs: []ggufwrite.KV{
			{Key: "general.architecture", Type: ggufwrite.String, Value: "llama"},
			{Key: "general.alignment", Type: ggufwrite.Uint32, Value: uint32(32)},
			{Key: "llama.context_length", Type: ggufwrite.Uint32, Value: uint32(4096)},
			{Key: "llama.rope.freq_base", Type: ggufwrite.Float32, Value: float32(10000)},
			{Key: "t.u8", Type: ggufwrite.Uint8, Value: uint8(7)},
			{Key: "t.i8", Type: ggufwrite.Int8, Value: int8(-7)},
			{Key: "t.u16", Type: ggufwrite.Uint16, Value: uint16(700)},
			{Key: "t.i16", Type: ggufwrite.Int16, Value: int16(-700)},
			{Key: "t.i32", Type: ggufwrite.Int32, Value: int32(-70000)},
			{Key: "t.bool", Type: ggufwrite.Bool, Value: true},
			{Key: "t.u64", Type: ggufwrite.Uint64, Value: uint64(1 << 40)},
			{Key: "t.i64", Type: ggufwrite.Int64, Value: int64(-1 << 40)},
			{Key: "t.f64", Type: ggufwrite.Float64, Value: 2.5},
			{Key: "tokenizer.ggml.tokens", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.String, Values: []any{"<s>", "</s>", "hello"}}},
			{Key: "tokenizer.ggml.scores", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.Float32, Values: []any{float32(0), float32(-1), float32(-2)}}},
			{Key: "t.nested", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.Array, Values: []any{
				ggufwrite.Arr{Type: ggufwrite.Int32, Values: []any{int32(1), int32(2)}},
				ggufwrite.Arr{Type: ggufwrite.String, Values: []any{"x"}},
			}}},
			{Key: "tokenizer.chat_template", Type: ggufwrite.String, Value: chatML},
		},
		Tensors: []ggufwrite.Tensor{
			{Name: "token_embd.weight", Dims: []uint64{4, 2}, Type: 0, Offset: 0},     // F32: 32 bytes
			{Name: "blk.0.attn_q.weight", Dims: []uint64{64, 1}, Type: 2, Offset: 32}, // Q4_0: 2 blocks × 18 = 36 bytes
			{Name: "output.weight", Dims: []uint64{256}, Type: 12, Offset: 96},        // Q4_K: 144 bytes
		},
		DataSize: 96 + 144,
	}
}

func scan(t testing.TB, b []byte) (*File, []finding.Finding) {
	t.Helper()
	f, fs, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f, fs
}

func ruleIDs(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	return out
}

func has(fs []finding.Finding, r *finding.Rule) bool { return slices.Contains(ruleIDs(fs), r.ID) }

func TestScanValid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint32
		big     bool
	}{{"v3", 3, false}, {"v2", 2, false}, {"v1", 1, false}, {"v3 big-endian", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			m := model()
			m.Version, m.BigEndian = tc.version, tc.big
			b := m.Bytes()
			f, fs := scan(t, b)
			if len(fs) != 0 {
				t.Fatalf("findings: %v", ruleIDs(fs))
			}
			if f.Version != tc.version || f.BigEndian != tc.big || len(f.Metadata) != len(m.KVs) || len(f.Tensors) != 3 {
				t.Fatalf("file %+v", f)
			}
			want := map[string]any{"t.u8": uint8(7), "t.i8": int8(-7), "t.u16": uint16(700), "t.i16": int16(-700), "t.i32": int32(-70000),
				"t.bool": true, "t.u64": uint64(1 << 40), "t.i64": int64(-1 << 40), "t.f64": 2.5, "llama.rope.freq_base": float32(10000)}
			for k, v := range want {
				if kv, ok := f.Get(k); !ok || kv.Value != v {
					t.Errorf("%s = %#v, want %#v", k, kv.Value, v)
				}
			}
			if kv, _ := f.Get("tokenizer.ggml.tokens"); kv.Value.(Array).Len != 3 || kv.Value.(Array).Values[2] != "hello" {
				t.Errorf("tokens %#v", kv.Value)
			}
			if kv, _ := f.Get("t.nested"); kv.Value.(Array).Values[1].(Array).Values[0] != "x" {
				t.Errorf("nested %#v", kv.Value)
			}
			if got := f.ChatTemplates()["tokenizer.chat_template"]; got != chatML {
				t.Errorf("template %q", got)
			}
			if f.DataOffset%32 != 0 || f.DataOffset+96+144 != int64(len(b)) {
				t.Errorf("data offset %d in %d bytes", f.DataOffset, len(b))
			}
			if sz := []uint64{32, 36, 144}; f.Tensors[0].Size != sz[0] || f.Tensors[1].Size != sz[1] || f.Tensors[2].Size != sz[2] {
				t.Errorf("sizes %+v", f.Tensors)
			}
			kv, _ := f.Get("tokenizer.chat_template")
			if string(b[kv.ValueOffset:kv.ValueOffset+int64(len(chatML))]) != chatML {
				t.Errorf("ValueOffset %d does not point at the template", kv.ValueOffset)
			}
		})
	}
}

// TestChatTemplates checks that every chat template key is passed to the
// template checks, with findings placed at their byte in the file.
func TestChatTemplates(t *testing.T) {
	m := model()
	m.KVs[len(m.KVs)-1].Value = "{{ 'hi' }}" + ssti
	m.KVs = append(m.KVs, ggufwrite.KV{Key: "tokenizer.chat_template.tool_use", Type: ggufwrite.String, Value: `{{ ()|attr('\x5f\x5fclass\x5f\x5f') }}`})
	b := m.Bytes()
	f, fs := scan(t, b)
	if len(f.ChatTemplates()) != 2 {
		t.Fatalf("templates %v", f.ChatTemplates())
	}
	fields := map[string]bool{}
	for _, fd := range fs {
		if !strings.HasPrefix(fd.RuleID, "model.template.") {
			t.Errorf("unexpected finding %s", fd.RuleID)
			continue
		}
		fields[fd.Location.Field] = true
		if fd.Severity < finding.High {
			continue
		}
		ex := strings.TrimSuffix(fd.Excerpt, "…")
		if !bytes.HasPrefix(b[fd.Location.Offset:], []byte(ex)) {
			t.Errorf("%s: offset %d holds %q, excerpt %q", fd.RuleID, fd.Location.Offset, b[fd.Location.Offset:fd.Location.Offset+10], ex)
		}
	}
	if !fields["tokenizer.chat_template"] || !fields["tokenizer.chat_template.tool_use"] || !has(fs, template.RuleDunder) {
		t.Errorf("findings %v fields %v", ruleIDs(fs), fields)
	}
}

func TestScanFindings(t *testing.T) {
	tests := []struct {
		name   string
		modify func(m *ggufwrite.File)
		want   *finding.Rule
	}{
		{"kv count too large", func(m *ggufwrite.File) { m.KVCount = 1 << 60 }, RuleCount},
		{"tensor count too large", func(m *ggufwrite.File) { m.TensorCount = math.MaxUint64 }, RuleCount},
		{"string length past the end", func(m *ggufwrite.File) {
			m.KVs = []ggufwrite.KV{{Key: "a", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.Uint8, Count: 1 << 50}}}
		}, RuleArray},
		{"array of strings too long", func(m *ggufwrite.File) {
			m.KVs = []ggufwrite.KV{{Key: "a", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.String, Count: 1 << 40}}}
		}, RuleArray},
		{"arrays nested too deep", func(m *ggufwrite.File) {
			v := ggufwrite.Arr{Type: ggufwrite.Uint8, Values: []any{uint8(1)}}
			for range 6 {
				v = ggufwrite.Arr{Type: ggufwrite.Array, Values: []any{v}}
			}
			m.KVs = []ggufwrite.KV{{Key: "deep", Type: ggufwrite.Array, Value: v}}
		}, RuleArray},
		{"unknown value type", func(m *ggufwrite.File) { m.KVs = []ggufwrite.KV{{Key: "x", Type: 42}} }, RuleValueType},
		{"unknown array element type", func(m *ggufwrite.File) {
			m.KVs = []ggufwrite.KV{{Key: "x", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: 77}}}
		}, RuleValueType},
		{"duplicate chat template", func(m *ggufwrite.File) {
			m.KVs = append(m.KVs, ggufwrite.KV{Key: "tokenizer.chat_template", Type: ggufwrite.String, Value: "{{ x }}"})
		}, RuleDuplicateKey},
		{"alignment not a power of two", func(m *ggufwrite.File) { m.KVs[1].Value = uint32(24) }, RuleAlignment},
		{"alignment of the wrong type", func(m *ggufwrite.File) {
			m.KVs[1] = ggufwrite.KV{Key: "general.alignment", Type: ggufwrite.Uint64, Value: uint64(32)}
		}, RuleAlignment},
		{"chat template not a string", func(m *ggufwrite.File) {
			m.KVs[len(m.KVs)-1] = ggufwrite.KV{Key: "tokenizer.chat_template", Type: ggufwrite.Uint32, Value: uint32(1)}
		}, RuleTemplateType},
		{"unknown tensor type", func(m *ggufwrite.File) { m.Tensors[0].Type = 4 }, RuleTensorType},
		{"too many dims", func(m *ggufwrite.File) { m.Tensors[0].Dims = []uint64{1, 1, 1, 1, 32} }, RuleTensorDims},
		{"dims overflow", func(m *ggufwrite.File) { m.Tensors[0].Dims = []uint64{1 << 32, 1 << 32} }, RuleTensorDims},
		{"negative dim", func(m *ggufwrite.File) { m.Tensors[0].Dims = []uint64{1 << 63} }, RuleTensorDims},
		{"block size mismatch", func(m *ggufwrite.File) { m.Tensors[1].Dims = []uint64{33} }, RuleTensorDims},
		{"misaligned offset", func(m *ggufwrite.File) { m.Tensors[2].Offset = 100 }, RuleTensorOffset},
		{"offset outside the file", func(m *ggufwrite.File) { m.Tensors[2].Offset = 1 << 40 }, RuleTensorOffset},
		{"size outside the file", func(m *ggufwrite.File) { m.Tensors[0].Dims = []uint64{1 << 20} }, RuleTensorOffset},
		{"overlap", func(m *ggufwrite.File) { m.Tensors[1].Offset = 0 }, RuleOverlap},
		{"duplicate tensor name", func(m *ggufwrite.File) { m.Tensors[1].Name = m.Tensors[0].Name }, RuleTensorName},
		{"long tensor name", func(m *ggufwrite.File) { m.Tensors[0].Name = strings.Repeat("n", 80) }, RuleTensorName},
		{"bad version", func(m *ggufwrite.File) { m.Version = 7 }, RuleVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := model()
			tt.modify(m)
			_, fs := scan(t, m.Bytes())
			if !has(fs, tt.want) {
				t.Fatalf("missing %s: %v", tt.want.ID, ruleIDs(fs))
			}
			for _, f := range fs {
				if f.Detector != Detector || f.Message == "" || f.Layer != finding.LayerModelWeights {
					t.Errorf("finding %+v", f)
				}
			}
		})
	}
}

func TestLimits(t *testing.T) {
	m := model()
	m.KVs = append(m.KVs, ggufwrite.KV{Key: "big", Type: ggufwrite.String, Value: strings.Repeat("x", 5000)})
	b := m.Bytes()
	f, fs, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{MaxString: 1000, KeepArray: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !has(fs, RuleString) {
		t.Errorf("long string not reported: %v", ruleIDs(fs))
	}
	if kv, _ := f.Get("big"); kv.Value != nil {
		t.Errorf("long string kept")
	}
	if kv, _ := f.Get("tokenizer.ggml.tokens"); len(kv.Value.(Array).Values) != 2 || kv.Value.(Array).Len != 3 {
		t.Errorf("KeepArray ignored: %#v", kv.Value)
	}
	if len(f.Tensors) != 3 {
		t.Errorf("parsing stopped after a skipped string")
	}

	// A chat template too long to check is high.
	m = model()
	m.KVs[len(m.KVs)-1].Value = strings.Repeat("{{ x }}", 1000)
	b = m.Bytes()
	_, fs, _ = Scan(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{MaxString: 1000})
	if len(fs) != 1 || fs[0].RuleID != RuleString.ID || fs[0].Severity != finding.High || fs[0].Location.Field != "tokenizer.chat_template" {
		t.Errorf("unchecked template: %+v", fs)
	}
}

func TestTruncations(t *testing.T) {
	b := model().Bytes()
	for n := range len(b) {
		f, fs, err := Scan(context.Background(), bytes.NewReader(b[:n]), int64(n), Limits{})
		if n < 4 {
			if !errors.Is(err, ErrNotGGUF) {
				t.Fatalf("%d bytes: err %v", n, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if len(fs) == 0 {
			t.Fatalf("%d-byte prefix of a %d-byte file: no finding (file %+v)", n, len(b), f)
		}
	}
}

func TestNotGGUF(t *testing.T) {
	_, _, err := Scan(context.Background(), strings.NewReader("PK\x03\x04 not gguf"), 15, Limits{})
	if !errors.Is(err, ErrNotGGUF) {
		t.Errorf("err = %v", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := model().Bytes()
	if _, _, err := Scan(ctx, bytes.NewReader(b), int64(len(b)), Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// countingReaderAt serves a header followed by a virtual data area.
type countingReaderAt struct {
	head []byte
	read atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.read.Add(int64(len(p)))
	n := 0
	if off < int64(len(c.head)) {
		n = copy(p, c.head[off:])
	}
	clear(p[n:])
	return len(p), nil
}

// TestReadsOnlyTheHeader scans a virtual 10 GB file with a large vocabulary
// and checks that only the header was read.
func TestReadsOnlyTheHeader(t *testing.T) {
	tokens := make([]any, 150_000)
	for i := range tokens {
		tokens[i] = "tok" + strings.Repeat("x", i%16)
	}
	m := &ggufwrite.File{
		KVs: []ggufwrite.KV{
			{Key: "tokenizer.ggml.tokens", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.String, Values: tokens}},
			{Key: "tokenizer.chat_template", Type: ggufwrite.String, Value: chatML},
		},
		Tensors: []ggufwrite.Tensor{{Name: "w", Dims: []uint64{1 << 30, 10}, Type: 1, Offset: 0}}, // 20 GiB of F16
	}
	head := m.Bytes()
	size := int64(len(head)) + 20<<30
	c := &countingReaderAt{head: head}
	start := time.Now()
	f, fs, err := Scan(context.Background(), c, size, Limits{})
	elapsed := time.Since(start)
	if err != nil || len(fs) != 0 || len(f.Tensors) != 1 {
		t.Fatalf("err %v findings %v", err, ruleIDs(fs))
	}
	t.Logf("%d-byte header (150,000 tokens) of a 20 GiB file: %v", len(head), elapsed)
	if got := c.read.Load(); got > int64(len(head))+window {
		t.Errorf("read %d bytes of a %d-byte header", got, len(head))
	}
}

func BenchmarkScan(b *testing.B) {
	data := model().Bytes()
	for b.Loop() {
		Scan(context.Background(), bytes.NewReader(data), int64(len(data)), Limits{})
	}
}

func FuzzGGUF(f *testing.F) {
	f.Add(model().Bytes())
	m := model()
	m.Version = 1
	f.Add(m.Bytes())
	m = model()
	m.BigEndian = true
	f.Add(m.Bytes())
	m = model()
	m.KVs[len(m.KVs)-1].Value = ssti
	f.Add(m.Bytes())
	lim := Limits{MaxString: 1 << 12, MaxKeptBytes: 1 << 16, MaxElements: 1 << 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, _, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
		if err != nil && !errors.Is(err, ErrNotGGUF) {
			t.Fatalf("error on in-memory input: %v", err)
		}
		if file != nil {
			for _, kv := range file.Metadata {
				if kv.ValueOffset > int64(len(b)) {
					t.Fatalf("value offset %d outside %d bytes", kv.ValueOffset, len(b))
				}
			}
		}
	})
}

func TestSniff(t *testing.T) {
	if !Sniff(model().Bytes()) || Sniff([]byte("GGU")) || Sniff([]byte("PK\x03\x04")) {
		t.Error("Sniff wrong")
	}
}
