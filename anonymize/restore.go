package anonymize

import "strings"

// Restore returns text with every placeholder of v replaced by its value
// and every occurrence of the strip strings removed. A placeholder-shaped
// string that is not in the vault (one the model made up) stays as it is.
func Restore(v *Vault, text string, strip ...string) string {
	r := NewRestorer(v, strip...)
	if !r.Active() {
		return text
	}
	var b strings.Builder
	if _, changed := r.scan(&b, text, true); !changed {
		return text
	}
	return b.String()
}

// Restorer restores a streamed text chunk by chunk. It releases everything
// at once except a tail that could still become a placeholder (such as
// "<EMA") or a strip string, so that what all Write calls and the final
// Flush return, concatenated, is exactly Restore of the whole text, wherever
// the chunks were cut. It is not safe for concurrent use.
type Restorer struct {
	v     *Vault
	strip []string
	first [256]bool // first bytes of the strip strings
	pend  []byte
	b     strings.Builder
}

// NewRestorer returns a Restorer for v's placeholders that also removes
// every occurrence of the strip strings (empty ones are ignored). v may be
// nil.
func NewRestorer(v *Vault, strip ...string) *Restorer {
	r := &Restorer{v: v}
	for _, s := range strip {
		if s != "" {
			r.strip = append(r.strip, s)
			r.first[s[0]] = true
		}
	}
	return r
}

// Active reports whether the restorer can change anything: it has
// placeholders or strip strings.
func (r *Restorer) Active() bool {
	return (r.v != nil && r.v.Len() > 0) || len(r.strip) > 0
}

// Write takes the next chunk and returns what can be released now.
func (r *Restorer) Write(chunk string) string {
	if !r.Active() {
		return chunk
	}
	var text string
	if len(r.pend) == 0 {
		text = chunk
	} else {
		r.pend = append(r.pend, chunk...)
		text = string(r.pend)
	}
	r.b.Reset()
	hold, changed := r.scan(&r.b, text, false)
	r.pend = append(r.pend[:0], text[hold:]...)
	if !changed {
		return text[:hold]
	}
	return r.b.String()
}

// Flush ends the text and returns the rest of it.
func (r *Restorer) Flush() string {
	if len(r.pend) == 0 {
		return ""
	}
	text := string(r.pend)
	r.pend = r.pend[:0]
	r.b.Reset()
	if _, changed := r.scan(&r.b, text, true); !changed {
		return text
	}
	return r.b.String()
}

// scan restores text up to the returned offset hold; from there on (only
// when !final) the text could still turn into a placeholder or a strip
// string and is held back. When changed is false nothing was replaced and
// the result is text[:hold] (b is left untouched); otherwise it is in b.
func (r *Restorer) scan(b *strings.Builder, text string, final bool) (hold int, changed bool) {
	maxLen := 0
	if r.v != nil {
		maxLen = r.v.MaxLen()
	}
	at := 0 // text[at:i] is pending output
	for i := 0; i < len(text); {
		c := text[i]
		if c == '<' && maxLen > 0 {
			j := i + 1
			for j < len(text) && j-i < maxLen && isTokenByte(text[j]) {
				j++
			}
			switch {
			case j < len(text) && text[j] == '>':
				if val, ok := r.v.Lookup(text[i : j+1]); ok {
					b.WriteString(text[at:i])
					b.WriteString(val)
					i = j + 1
					at = i
					changed = true
					continue
				}
			case j == len(text) && j-i < maxLen && !final:
				if changed {
					b.WriteString(text[at:i])
				}
				return i, changed
			}
		}
		if r.first[c] {
			matched := false
			for _, s := range r.strip {
				if strings.HasPrefix(text[i:], s) {
					b.WriteString(text[at:i])
					i += len(s)
					at = i
					matched, changed = true, true
					break
				}
				if !final && len(text)-i < len(s) && strings.HasPrefix(s, text[i:]) {
					if changed {
						b.WriteString(text[at:i])
					}
					return i, changed
				}
			}
			if matched {
				continue
			}
		}
		i++
	}
	if changed {
		b.WriteString(text[at:])
	}
	return len(text), changed
}
