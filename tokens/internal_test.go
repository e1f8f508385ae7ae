package tokens

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// TestClassTable checks the two-stage table against the unicode package
// for every code point.
func TestClassTable(t *testing.T) {
	loadClasses()
	bad := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := classOf(r), classOfSlow(r); got != want {
			if bad++; bad <= 10 {
				t.Errorf("classOf(%U) = %07b, want %07b", r, got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d code points wrong", bad)
	}
	t.Logf("class table: %d index entries, %d bytes of blocks", len(classIndex), len(classBlocks))
}

func TestAt(t *testing.T) {
	loadClasses()
	tests := []struct {
		s    string
		i    int
		want uint8
		n    int
	}{
		{"a", 0, fL | fW, 1},
		{"A", 0, fL | fU, 1},
		{"7", 0, fN, 1},
		{"\n", 0, fS | fNL, 1},
		{"\u00a0", 0, fS, 2},
		{"\u0301", 0, fU | fW, 2},
		{"ǅ", 0, fL | fU, 2},
		{"ª", 0, fL | fU | fW, 2},
		{"\x7f", 0, 0, 1},
		{"\xff", 0, 0, 1},
		{"\xe2\x82", 0, 0, 1},
		{"🙂", 0, 0, 4},
		{"ab", 2, fEnd, 0},
	}
	for _, tt := range tests {
		f, n := at(tt.s, tt.i)
		if f != tt.want || n != tt.n {
			t.Errorf("at(%q, %d) = %07b, %d; want %07b, %d", tt.s, tt.i, f, n, tt.want, tt.n)
		}
	}
}

// TestRankTable checks that every token of both vocabularies is found with
// its rank, and that strings that aren't tokens aren't.
func TestRankTable(t *testing.T) {
	for _, r := range refs {
		if err := r.enc.Load(); err != nil {
			t.Fatal(err)
		}
		tokens, err := loadTokens(r.enc.newCodec, r.enc.size)
		if err != nil {
			t.Fatal(err)
		}
		for want, tok := range tokens {
			if got, ok := r.enc.ranks.rank(tok); !ok || int(got) != want {
				t.Fatalf("%s rank(%q) = %d, %v; want %d", r.enc.Name(), tok, got, ok, want)
			}
			if len(tok) >= 2 {
				if got := r.enc.ranks.pairRank(tok, 0, len(tok)); int(got) != want {
					t.Fatalf("%s pairRank(%q) = %d, want %d", r.enc.Name(), tok, got, want)
				}
			}
		}
		// The small tables agree with the main one on every pair of bytes
		// and on triples.
		rng := rand.New(rand.NewPCG(7, 8))
		for i := range 1 << 16 {
			s := string([]byte{byte(i), byte(i >> 8), byte(rng.Uint32())})
			for _, s := range []string{s[:2], s} {
				want, ok := r.enc.ranks.rank(s)
				if !ok {
					want = noRank
				}
				if got := r.enc.ranks.pairRank(s, 0, len(s)); got != want {
					t.Fatalf("%s pairRank(%q) = %d, want %d", r.enc.Name(), s, got, want)
				}
			}
		}
		for _, s := range []string{"", "\xff\xfe\xfd\xfc", strings.Repeat("z", 300), "qqqqqqqqqqqqqqqqj", " tokenizationism"} {
			if got, ok := r.enc.ranks.rank(s); ok {
				t.Errorf("%s rank(%q) = %d, want none", r.enc.Name(), s, got)
			}
		}
	}
}

func TestFingerprint(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	seen := make(map[uint64]string)
	for n := range 64 {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			s := string(b)
			var want uint64
			for i := min(n, 8) - 1; i >= 0; i-- {
				want = want<<8 | uint64(s[i])
			}
			prefix, h := fingerprint(s)
			if prefix != want {
				t.Errorf("fingerprint(%q) prefix = %#x, want %#x", s, prefix, want)
			}
			if other, ok := seen[h]; ok && other != s {
				t.Errorf("fingerprint(%q) = fingerprint(%q)", s, other)
			}
			seen[h] = s
		}
	}
}

func TestBuildRankTableErrors(t *testing.T) {
	all := make([]string, 256)
	for i := range all {
		all[i] = string([]byte{byte(i)})
	}
	tests := []struct {
		name   string
		tokens []string
		want   string
	}{
		{"duplicate", append(append([]string{}, all...), "a"), "duplicate"},
		{"empty", append(append([]string{}, all...), ""), "length 0"},
		{"too long", append(append([]string{}, all...), strings.Repeat("x", 256)), "length 256"},
		{"missing byte", all[1:], "byte 0x00 is not a token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildRankTable(tt.tokens)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("buildRankTable: error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := buildRankTable(all); err != nil {
		t.Errorf("buildRankTable(all bytes): %v", err)
	}
}

// TestMergeStrategies checks the stack-array merge and the heap merge
// against the naive one on pieces around the length where count switches.
func TestMergeStrategies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"a", "b", "ab", "the", " ", "ing", "中", "é", "🙂", "\xff", "x", "1", "  ", "ation", "'", "Z"}
	for _, r := range refs {
		if err := r.enc.Load(); err != nil {
			t.Fatal(err)
		}
		r.naiveCount(t, "") // load the map
		rounds := 2000
		if raceEnabled {
			rounds = 300
		}
		for range rounds {
			var b strings.Builder
			n := 1 + rng.IntN(3*smallPiece)
			for b.Len() < n {
				b.WriteString(words[rng.IntN(len(words))])
			}
			piece := b.String()
			want := naiveMerge(r.vocab, piece)
			if got := r.enc.ranks.count(piece); got != want {
				t.Fatalf("%s count(%q) = %d, want %d", r.enc.Name(), piece, got, want)
			}
			if len(piece) >= 2 {
				if got := r.enc.ranks.countLarge(piece); got != want {
					t.Fatalf("%s countLarge(%q) = %d, want %d", r.enc.Name(), piece, got, want)
				}
			}
		}
	}
}

func TestCache(t *testing.T) {
	var c pieceCache
	keys := []string{"ab", "abcdefgh", "abcdefghi", strings.Repeat("x", cacheKeyMax), "\x00\x00", "\x00"}
	for i, k := range keys {
		_, h := fingerprint(k)
		if _, ok := c.get(k, h); ok {
			t.Errorf("get(%q) hit in an empty cache", k)
		}
		c.put(k, h, i+2)
		if n, ok := c.get(k, h); !ok || n != i+2 {
			t.Errorf("get(%q) = %d, %v after put %d", k, n, ok, i+2)
		}
	}
	// A key that shares a slot but differs must miss, including keys that
	// differ only in zero padding or in their last byte.
	c.put("ab", 7, 2)
	for _, k := range []string{"ab\x00", "a", "ac", "abc"} {
		if n, ok := c.get(k, 7); ok {
			t.Errorf("get(%q) = %d after put(\"ab\") in the same slot", k, n)
		}
	}
}

// TestCacheConcurrent hammers a few slots from several goroutines; run
// with -race. Each key maps to a count derived from the key, so a torn read
// would show as a wrong count.
func TestCacheConcurrent(t *testing.T) {
	var c pieceCache
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d-%s", i, strings.Repeat("v", i%20))
	}
	countOf := func(k string) int { return len(k) % 251 }
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20000 {
				k := keys[(i*7+g)%len(keys)]
				h := uint64(i%4) << 32 // four slots, many collisions
				if n, ok := c.get(k, h); ok && n != countOf(k) {
					t.Errorf("get(%q) = %d, want %d", k, n, countOf(k))
					return
				}
				c.put(k, h, countOf(k))
			}
		})
	}
	wg.Wait()
}

func TestCountBytes(t *testing.T) {
	for _, s := range edgeCases {
		if got, want := O200kBase().CountBytes([]byte(s)), O200kBase().Count(s); got != want {
			t.Errorf("CountBytes(%q) = %d, Count = %d", s, got, want)
		}
	}
}

func TestConcurrentCount(t *testing.T) {
	texts := append([]string{}, edgeCases...)
	want := make([]int, len(texts))
	for i, s := range texts {
		want[i] = O200kBase().Count(s)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3 * len(texts) {
				j := (i + g*13) % len(texts)
				if got := O200kBase().Count(texts[j]); got != want[j] {
					t.Errorf("Count(%q) = %d concurrently, %d alone", texts[j], got, want[j])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCountAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	english := edgeCases[3] + " " + strings.Repeat("The quick brown fox jumps over the lazy dog's back. ", 20)
	long := strings.Repeat("ab", 500) // takes the heap merge
	for _, r := range refs {
		r.enc.Count(long)
		for _, s := range []string{english, long, "日本語のテキスト", "👨‍👩‍👧‍👦 ok"} {
			if raceEnabled && s == long {
				continue // sync.Pool drops items under -race
			}
			if n := testing.AllocsPerRun(50, func() { r.enc.Count(s) }); n != 0 {
				t.Errorf("%s Count(%.20q...) allocates %.1f times", r.enc.Name(), s, n)
			}
		}
	}
}

func TestReplaceInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"a\xffb", "a\uFFFDb"},
		{"\xe2\x82", "\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"é\x80", "é\uFFFD"},
	}
	for _, tt := range tests {
		if got := replaceInvalid(tt.in); got != tt.want {
			t.Errorf("replaceInvalid(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// It agrees with the []rune conversion regexp2 uses.
		if got := string([]rune(tt.in)); got != tt.want {
			t.Errorf("string([]rune(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if !utf8.ValidString(replaceInvalid("\xff\xfe")) {
		t.Error("replaceInvalid left invalid UTF-8")
	}
}

// TestLoadCost reports what loading costs. Run it alone for meaningful
// numbers (go test -run TestLoadCost -v), since other tests load the
// vocabularies first.
func TestLoadCost(t *testing.T) {
	for _, r := range refs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		e := &Encoding{name: r.enc.name, split: r.enc.split, newCodec: r.enc.newCodec, size: r.enc.size}
		if err := e.Load(); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		own := int(unsafe.Sizeof(*e.ranks)) + len(e.ranks.slots)*int(unsafe.Sizeof(rankSlot{})) + len(e.ranks.bytes) + int(unsafe.Sizeof(e.cache))
		t.Logf("%s: Load %v; heap +%.1f MiB (this package's tables %.1f MiB, the rest is the tokenizer package's vocabulary map if this is its first use)",
			e.Name(), elapsed.Round(time.Millisecond), float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), float64(own)/(1<<20))
		if own > 16<<20 {
			t.Errorf("%s tables take %d bytes", e.Name(), own)
		}
		runtime.KeepAlive(e)
	}
}

// TestLoadErrors checks that a vocabulary other than the expected one is
// reported by Load, and by Count as a panic with the same message.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		size int
		want string
	}{
		{cl100kBase.size + 1, "load cl100k_base vocabulary: decode cl100k_base token 100256: invalid token"},
		{cl100kBase.size - 1, "load cl100k_base vocabulary: cl100k_base has more than the expected 100255 tokens"},
	}
	for _, tt := range tests {
		e := &Encoding{name: cl100kBase.name, split: cl100kBase.split, newCodec: cl100kBase.newCodec, size: tt.size}
		if err := e.Load(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("size %d: Load() = %v, want an error containing %q", tt.size, err, tt.want)
		}
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), tt.want) {
					t.Errorf("size %d: Count panicked with %v, want a message containing %q", tt.size, p, tt.want)
				}
			}()
			e.Count("hello")
		}()
	}
}
