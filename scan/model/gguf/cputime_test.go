package gguf

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/cputime"
	"github.com/rampartsec/rampart/scan/model/internal/ggufwrite"
)

// TestCPUTime reports the CPU time of scanning a GGUF header with a
// 150,000-token vocabulary and 300 tensors. Run it with
//
//	MODEL_CPUTIME=1 go test -run TestCPUTime -v ./scan/model/gguf
func TestCPUTime(t *testing.T) {
	if os.Getenv("MODEL_CPUTIME") == "" || !cputime.Supported() {
		t.Skip("set MODEL_CPUTIME=1 on Linux")
	}
	tokens := make([]any, 150_000)
	scores := make([]any, 150_000)
	for i := range tokens {
		tokens[i] = "tok" + strings.Repeat("x", i%16)
		scores[i] = float32(-i)
	}
	m := &ggufwrite.File{KVs: []ggufwrite.KV{
		{Key: "tokenizer.ggml.tokens", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.String, Values: tokens}},
		{Key: "tokenizer.ggml.scores", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.Float32, Values: scores}},
		{Key: "tokenizer.chat_template", Type: ggufwrite.String, Value: chatML},
	}}
	var off uint64
	for i := range 300 {
		m.Tensors = append(m.Tensors, ggufwrite.Tensor{Name: "blk." + strings.Repeat("1", i%3+1) + ".w" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Dims: []uint64{4096, 4096}, Type: 12, Offset: off})
		off += 4096 * 4096 / 256 * 144
	}
	head := m.Bytes()
	c := &countingReaderAt{head: head}
	size := int64(len(head)) + int64(off)
	t.Logf("%d kB header, 150,000 tokens, 300 Q4_K tensors, %d GB file: %v", len(head)>>10, size>>30,
		cputime.Median(func() { Scan(context.Background(), c, size, Limits{}) }))
}
