package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/rampartsec/rampart/anonymize"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/gateway/openai"
	"github.com/rampartsec/rampart/policy"
)

// needsSession reports whether a policy replaces values in a way that
// needs per-request state: placeholders, hashes or synthetic values.
func needsSession(p *policy.Policy) bool {
	if p.Anonymizes {
		return true
	}
	for _, rs := range [][]*policy.Rule{p.Input, p.Output} {
		for _, r := range rs {
			if r.Replaces() && r.Style != anonymize.Mask {
				return true
			}
		}
	}
	return false
}

// newCanary returns a fresh canary token; tests replace it.
var newCanary = randomCanary

// randomCanary returns 16 random bytes in hex.
func randomCanary() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// canaryLine is what the gateway appends to the system prompt.
func canaryLine(token string) string {
	return "<!-- rampart-canary: " + token + " -->"
}

// planCanary picks a token and where it goes: it returns the index of the
// request text (a system or developer message, or the Responses
// instructions) it is appended to, or -1 when a system message or
// instructions field must be inserted. It also binds the output rules to
// the request's system prompt (as sent upstream) and token. Routes without
// a system prompt (legacy completions, embeddings) get no canary.
func (c *call) planCanary(redacted map[int]string) int {
	req := c.req
	if req.Route != openai.ChatCompletions && req.Route != openai.Responses {
		c.outRules = policy.ForRequest(c.pol.Output, "", "")
		return -1
	}
	c.canary = newCanary()
	c.strip = []string{canaryLine(c.canary), c.canary}
	at := -1
	var sys strings.Builder
	for i, t := range req.Texts {
		if t.Role != detect.RoleSystem {
			continue
		}
		if at < 0 {
			at = i
		}
		s := t.Text
		if r, ok := redacted[i]; ok {
			s = r
		}
		if sys.Len() > 0 {
			sys.WriteByte('\n')
		}
		sys.WriteString(s)
	}
	c.outRules = policy.ForRequest(c.pol.Output, sys.String(), c.canary)
	return at
}

// insertCanary adds the canary as a system message at the start of a chat
// request's messages, or as the instructions of a Responses request that
// has none.
func (c *call) insertCanary(doc []byte) ([]byte, bool) {
	line := canaryLine(c.canary)
	var path []openai.PathElem
	var ins []byte
	if c.req.Route == openai.ChatCompletions {
		path = []openai.PathElem{{Key: "messages"}}
		ins = append([]byte(`{"role":"system","content":`), openai.AppendString(nil, line)...)
		ins = append(ins, '}')
	} else {
		p := []openai.PathElem{{Key: "instructions"}}
		if _, _, ok := openai.Locate(doc, p); ok {
			// "instructions": null — replace it rather than add a
			// duplicate key.
			out, err := openai.Splice(doc, p, line)
			if err == nil {
				return out, true
			}
		}
		ins = append([]byte(`"instructions":`), openai.AppendString(nil, line)...)
	}
	start, end, ok := openai.Locate(doc, path)
	if !ok || end-start < 2 || (doc[start] != '[' && doc[start] != '{') {
		c.g.log.Error("canary insertion failed", "request_id", c.id)
		c.fail(&openai.APIError{Status: http.StatusInternalServerError, Type: openai.TypeServer, Code: "internal_error",
			Message: "the gateway could not add its canary to the request, so it was not sent"}, decError)
		return nil, false
	}
	// Empty container: no comma.
	empty := true
	for _, b := range doc[start+1 : end-1] {
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			empty = false
			break
		}
	}
	if !empty {
		ins = append(ins, ',')
	}
	out := make([]byte, 0, len(doc)+len(ins))
	out = append(out, doc[:start+1]...)
	out = append(out, ins...)
	return append(out, doc[start+1:]...), true
}

// restoring reports whether output texts must go through a restorer.
func (c *call) restoring() bool {
	return len(c.strip) > 0 || (c.sess != nil && c.sess.Vault.Len() > 0)
}

// vault returns the request's vault, or nil.
func (c *call) vault() *anonymize.Vault {
	if c.sess == nil {
		return nil
	}
	return c.sess.Vault
}

// restore puts the anonymized values back into an output text and removes
// the canary.
func (c *call) restore(text string) string {
	return anonymize.Restore(c.vault(), text, c.strip...)
}

// echoPaths are where the Responses API echoes a request's instructions:
// in a response object, and in the response of a stream event.
var echoPaths = [][]openai.PathElem{{{Key: "instructions"}}, {{Key: "response"}, {Key: "instructions"}}}

// restoreEcho removes the canary line from, and restores the anonymized
// values of, the instructions a Responses API answer echoes back.
func (c *call) restoreEcho(doc []byte) []byte {
	if c.req == nil || c.req.Route != openai.Responses || !c.restoring() {
		return doc
	}
	for _, p := range echoPaths {
		a, b, ok := openai.Locate(doc, p)
		if !ok || doc[a] != '"' {
			continue
		}
		s, err := openai.DecodeString(doc[a:b])
		if err != nil {
			continue
		}
		r := s
		if c.canary != "" {
			r = strings.ReplaceAll(r, "\n\n"+canaryLine(c.canary), "")
		}
		if r = c.restore(r); r == s {
			continue
		}
		if out, err := openai.Splice(doc, p, r); err == nil {
			doc = out
		}
	}
	return doc
}
