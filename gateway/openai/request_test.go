package openai

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

type textWant struct {
	role  detect.Role
	field string
	text  string
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name   string
		route  Route
		body   string
		model  string
		stream bool
		max    int
		msgs   int
		texts  []textWant
	}{
		{
			name:  "chat strings",
			route: ChatCompletions,
			body:  `{"model":"gpt-4o","messages":[{"role":"system","content":"be nice"},{"role":"user","content":"hi"}],"stream":true,"max_tokens":50,"temperature":0.2}`,
			model: "gpt-4o", stream: true, max: 50, msgs: 2,
			texts: []textWant{{detect.RoleSystem, "messages[0].content", "be nice"}, {detect.RoleUser, "messages[1].content", "hi"}},
		},
		{
			name:  "chat parts, role after content, tools, escapes",
			route: ChatCompletions,
			body: `{"messages":[{"content":[{"type":"text","text":"a\u00e9\n\"q\""},{"type":"image_url","image_url":{"url":"https://x/y.png"}}],"role":"user"},` +
				`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"result text"},{"role":"developer","content":"dev"}],"model":"m","max_completion_tokens":7,"max_tokens":9}`,
			model: "m", max: 7, msgs: 4,
			texts: []textWant{
				{detect.RoleUser, "messages[0].content[0].text", "aé\n\"q\""},
				{detect.RoleAssistant, "messages[1].tool_calls[0].function.arguments", `{"x":1}`},
				{detect.RoleTool, "messages[2].content", "result text"},
				{detect.RoleSystem, "messages[3].content", "dev"},
			},
		},
		{
			name:  "surrogate pair and lone surrogate",
			route: ChatCompletions,
			body:  `{"model":"m","messages":[{"role":"user","content":"\ud83d\ude00 \ud800x"}]}`,
			model: "m", msgs: 1,
			texts: []textWant{{detect.RoleUser, "messages[0].content", "😀 \uFFFDx"}},
		},
		{
			name:  "completions array",
			route: Completions,
			body:  `{"model":"davinci","prompt":["one","two"],"suffix":"end","max_tokens":3}`,
			model: "davinci", max: 3, msgs: 2,
			texts: []textWant{{detect.RoleUser, "prompt[0]", "one"}, {detect.RoleUser, "prompt[1]", "two"}, {detect.RoleUser, "suffix", "end"}},
		},
		{
			name:  "completions tokens",
			route: Completions,
			body:  `{"model":"davinci","prompt":[1,2,3]}`,
			model: "davinci", msgs: 1,
		},
		{
			name:  "embeddings string",
			route: Embeddings,
			body:  `{"model":"text-embedding-3-small","input":"hello","encoding_format":"float"}`,
			model: "text-embedding-3-small", msgs: 1,
			texts: []textWant{{detect.RoleUser, "input", "hello"}},
		},
		{
			name:  "embeddings token arrays",
			route: Embeddings,
			body:  `{"model":"e","input":[[1,2],[3]]}`,
			model: "e", msgs: 2,
		},
		{
			name:  "responses items",
			route: Responses,
			body: `{"model":"gpt-4.1","instructions":"sys","input":[{"role":"user","content":[{"type":"input_text","text":"q"}]},` +
				`{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"tool says"}],"max_output_tokens":100,"stream":true}`,
			model: "gpt-4.1", stream: true, max: 100, msgs: 3,
			texts: []textWant{
				{detect.RoleSystem, "instructions", "sys"},
				{detect.RoleUser, "input[0].content[0].text", "q"},
				{detect.RoleAssistant, "input[1].arguments", "{}"},
				{detect.RoleTool, "input[2].output", "tool says"},
			},
		},
		{
			name:  "responses string",
			route: Responses,
			body:  `{"model":"gpt-4.1","input":"hello"}`,
			model: "gpt-4.1", msgs: 1,
			texts: []textWant{{detect.RoleUser, "input", "hello"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest(tt.route, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if req.Model != tt.model || req.Stream != tt.stream || req.MaxTokens != tt.max || req.Messages != tt.msgs {
				t.Fatalf("got model %q stream %v max %d msgs %d", req.Model, req.Stream, req.MaxTokens, req.Messages)
			}
			if len(req.Texts) != len(tt.texts) {
				t.Fatalf("got %d texts %+v, want %d", len(req.Texts), req.Texts, len(tt.texts))
			}
			for i, w := range tt.texts {
				g := req.Texts[i]
				if g.Role != w.role || g.Field != w.field || g.Text != w.text {
					t.Errorf("text %d = {%s %s %q}, want {%s %s %q}", i, g.Role, g.Field, g.Text, w.role, w.field, w.text)
				}
			}
			checkPaths(t, []byte(tt.body), req.Texts)
		})
	}
}

// checkPaths asserts that each text's path locates a JSON string that
// decodes to the text.
func checkPaths(t *testing.T, body []byte, texts []Text) {
	t.Helper()
	for _, tx := range texts {
		a, b, ok := Locate(body, tx.Path())
		if !ok {
			t.Fatalf("%s: not located", tx.Field)
		}
		var v string
		if err := json.Unmarshal(body[a:b], &v); err != nil {
			t.Fatalf("%s: located %q: %v", tx.Field, body[a:b], err)
		}
		if v != tx.Text && !strings.Contains(tx.Text, "\uFFFD") {
			t.Fatalf("%s: located %q, parsed %q", tx.Field, v, tx.Text)
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		route Route
		body  string
		want  string // substring of the error
	}{
		{"empty", ChatCompletions, ``, "empty"},
		{"not object", ChatCompletions, `[1]`, "must be a JSON object"},
		{"invalid utf8", ChatCompletions, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", "not valid UTF-8 (byte offset 51)"},
		{"malformed", ChatCompletions, `{"model":"m",`, "not valid JSON"},
		{"trailing NUL", ChatCompletions, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\x00", "after the JSON value"},
		{"trailing", ChatCompletions, `{"model":"m","messages":[{"role":"user","content":"x"}]} {}`, "after the JSON value"},
		{"no model", ChatCompletions, `{"messages":[{"role":"user","content":"x"}]}`, "model: you must provide"},
		{"no messages", ChatCompletions, `{"model":"m"}`, "messages: you must provide"},
		{"empty messages", ChatCompletions, `{"model":"m","messages":[]}`, "at least one"},
		{"messages wrong type", ChatCompletions, `{"model":"m","messages":{}}`, "messages: expected an array of messages, got an object"},
		{"content wrong type", ChatCompletions, `{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content: expected a string, null or an array"},
		{"role missing", ChatCompletions, `{"model":"m","messages":[{"content":"x"}]}`, "messages[0].role: is required"},
		{"duplicate content", ChatCompletions, `{"model":"m","messages":[{"role":"user","content":"a","content":"b"}]}`, `messages[0].content: duplicate key "content"`},
		{"duplicate model", ChatCompletions, `{"model":"m","model":"n","messages":[{"role":"user","content":"a"}]}`, `duplicate key "model"`},
		{"stream wrong type", ChatCompletions, `{"model":"m","stream":"yes","messages":[{"role":"user","content":"a"}]}`, "stream: expected a boolean"},
		{"max tokens float", ChatCompletions, `{"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"a"}]}`, "max_tokens: expected an integer"},
		{"negative max", ChatCompletions, `{"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"a"}]}`, "must not be negative"},
		{"deep", ChatCompletions, `{"model":"m","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"messages":[{"role":"user","content":"a"}]}`, "nested deeper"},
		{"control char", ChatCompletions, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\x01\"}]}", "control character"},
		{"bad escape", ChatCompletions, `{"model":"m","messages":[{"role":"user","content":"\x"}]}`, "invalid escape"},
		{"no prompt", Completions, `{"model":"m"}`, "prompt: you must provide"},
		{"no input", Embeddings, `{"model":"m"}`, "input: you must provide"},
		{"input object", Embeddings, `{"model":"m","input":{}}`, "input: expected a string or an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest(tt.route, []byte(tt.body))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestCaseVariantKeysIgnored: keys are matched exactly, so a "CONTENT" key
// cannot hide the "content" that upstreams read.
func TestCaseVariantKeysIgnored(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"real","CONTENT":"decoy"}]}`
	req, err := ParseRequest(ChatCompletions, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Texts) != 1 || req.Texts[0].Text != "real" {
		t.Fatalf("texts = %+v", req.Texts)
	}
}

func TestRewrite(t *testing.T) {
	body := []byte(`{"model":"alias","temperature":0.70,"messages":[{"role":"user","content":"my key is X"},{"role":"user","content":[{"type":"text","text":"t"}]}],"z":1e3}`)
	req, err := ParseRequest(ChatCompletions, body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Rewrite(body, []Edit{
		{Path: req.Texts[0].Path(), Value: "my key is [REDACTED]"},
		{Path: []PathElem{{Key: "model"}}, Value: "gpt-4o"},
		{Path: req.Texts[1].Path(), Value: "<b>&"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"gpt-4o","temperature":0.70,"messages":[{"role":"user","content":"my key is [REDACTED]"},{"role":"user","content":[{"type":"text","text":"\u003cb\u003e\u0026"}]}],"z":1e3}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(uint8(1), []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}`))
	f.Add(uint8(1), []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a\u00e9"}]},{"role":"assistant","tool_calls":[{"function":{"arguments":"{}"}}]}]}`))
	f.Add(uint8(2), []byte(`{"model":"m","prompt":["a",[1,2]],"suffix":"s"}`))
	f.Add(uint8(3), []byte(`{"model":"m","input":[[1],[2,3]]}`))
	f.Add(uint8(4), []byte(`{"model":"m","instructions":"i","input":[{"type":"function_call_output","output":"o"},{"role":"user","content":"c"}]}`))
	f.Fuzz(func(t *testing.T, r uint8, body []byte) {
		route := Route(r%4 + 1)
		req, err := ParseRequest(route, body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		checkPaths(t, body, req.Texts)
		// Rewriting every text with a marker and parsing again finds the
		// markers at the same fields.
		edits := make([]Edit, len(req.Texts))
		for i, tx := range req.Texts {
			edits[i] = Edit{Path: tx.Path(), Value: "<R>"}
		}
		out, err := Rewrite(body, edits)
		if err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		again, err := ParseRequest(route, out)
		if err != nil {
			t.Fatalf("re-parse of rewritten body: %v\n%s", err, out)
		}
		if len(again.Texts) != len(req.Texts) {
			t.Fatalf("re-parse found %d texts, want %d", len(again.Texts), len(req.Texts))
		}
		for i, tx := range again.Texts {
			if tx.Text != "<R>" || tx.Field != req.Texts[i].Field {
				t.Fatalf("text %d = %q at %s", i, tx.Text, tx.Field)
			}
		}
	})
}

func BenchmarkParseChat1KB(b *testing.B) {
	body := []byte(`{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` +
		strings.Repeat("Please summarise the weather in Paris and Berlin today. ", 17) + `"}]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(ChatCompletions, body); err != nil {
			b.Fatal(err)
		}
	}
}
