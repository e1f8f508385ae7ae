package safetensors

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/cputime"
)

// TestCPUTime reports the CPU time of scanning a 1,000-tensor header. Run
// it with
//
//	MODEL_CPUTIME=1 go test -run TestCPUTime -v ./scan/model/safetensors
func TestCPUTime(t *testing.T) {
	if os.Getenv("MODEL_CPUTIME") == "" || !cputime.Supported() {
		t.Skip("set MODEL_CPUTIME=1 on Linux")
	}
	var hb strings.Builder
	hb.WriteString(`{"__metadata__":{"format":"pt"}`)
	const per = 1 << 24
	for i := range 1000 {
		hb.WriteString(`,"model.layers.` + itoa(i) + `.mlp.weight":{"dtype":"BF16","shape":[8192,1024],"data_offsets":[` + itoa64(uint64(i)*per) + `,` + itoa64(uint64(i+1)*per) + `]}`)
	}
	hb.WriteString("}")
	head := file(hb.String(), 0)
	c := &countingReaderAt{head: head}
	size := int64(len(head)) + 1000*per
	t.Logf("1,000-tensor header (%d kB) of a %d GB file: %v", len(head)>>10, size>>30, cputime.Median(func() { Scan(c, size) }))
	small := file(good, 34)
	t.Logf("4-tensor header: %v", cputime.Median(func() { Scan(bytes.NewReader(small), int64(len(small))) }))
}
