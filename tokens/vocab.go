package tokens

import (
	"fmt"

	"github.com/tiktoken-go/tokenizer/codec"
)

// loadTokens returns the ordinary (non-special) tokens of the codec that
// newCodec makes, indexed by rank. The vocabulary comes from
// github.com/tiktoken-go/tokenizer, which compiles it in; its only exported
// way to it is Decode, one token ID at a time. want is the number of
// ordinary tokens the encoding has: IDs 0..want-1 must all decode and want
// must not, so a changed vocabulary is noticed.
func loadTokens(newCodec func() *codec.Codec, want int) ([]string, error) {
	c := newCodec()
	c.SetErrorMode(codec.ErrorModeNone) // the raw bytes, even if not UTF-8
	tokens := make([]string, want)
	id := []uint{0}
	for i := range tokens {
		id[0] = uint(i)
		tok, err := c.Decode(id)
		if err != nil {
			return nil, fmt.Errorf("decode %s token %d: %w", c.GetName(), i, err)
		}
		tokens[i] = tok
	}
	id[0] = uint(want)
	if _, err := c.Decode(id); err == nil {
		return nil, fmt.Errorf("%s has more than the expected %d tokens", c.GetName(), want)
	}
	return tokens, nil
}
