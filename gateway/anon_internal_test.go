package gateway

import (
	"testing"

	"github.com/rampartsec/rampart/anonymize"
	"github.com/rampartsec/rampart/gateway/openai"
)

func TestRestoreEcho(t *testing.T) {
	tok := "00112233445566778899aabbccddeeff"
	sess := anonymize.NewSession(nil)
	sess.Vault.Placeholder("EMAIL", "jane@corp.example")
	c := &call{req: &openai.Request{Route: openai.Responses}, sess: sess, canary: tok,
		strip: []string{canaryLine(tok), tok}}
	line := canaryLine(tok)
	tests := []struct{ in, want string }{
		{`{"id":"r","instructions":"Mail \u003cEMAIL_1\u003e.\n\n` + line + `","output":[]}`,
			`{"id":"r","instructions":"Mail jane@corp.example.","output":[]}`},
		{`{"type":"response.created","response":{"instructions":"` + line + `"}}`,
			`{"type":"response.created","response":{"instructions":""}}`},
		{`{"type":"response.created","response":{"instructions":null}}`,
			`{"type":"response.created","response":{"instructions":null}}`},
		{`{"type":"response.output_text.delta","delta":"x"}`, `{"type":"response.output_text.delta","delta":"x"}`},
	}
	for _, tt := range tests {
		if got := string(c.restoreEcho([]byte(tt.in))); got != tt.want {
			t.Errorf("restoreEcho(%s) =\n%s\nwant\n%s", tt.in, got, tt.want)
		}
	}
	c.req.Route = openai.ChatCompletions
	if got := string(c.restoreEcho([]byte(tests[0].in))); got != tests[0].in {
		t.Errorf("chat answers are not touched: %s", got)
	}
}
