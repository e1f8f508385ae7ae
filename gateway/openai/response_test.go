package openai

import (
	"encoding/json"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name     string
		route    Route
		body     string
		texts    []string
		choices  []int
		usage    Usage
		finished []int
	}{
		{
			name:  "chat with tool call",
			route: ChatCompletions,
			body: `{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null,` +
				`"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}],` +
				`"usage":{"prompt_tokens":3,"completion_tokens":4}}`,
			texts: []string{"hi", `{"a":1}`}, choices: []int{0, 0}, usage: Usage{3, 4, true}, finished: []int{0},
		},
		{
			name:  "chunk of choice 2, tool call index 1",
			route: ChatCompletions,
			body:  `{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"x"}}]},"index":2,"finish_reason":null}]}`,
			texts: []string{"x"}, choices: []int{2},
		},
		{
			name:  "completions",
			route: Completions,
			body:  `{"choices":[{"text":"a","index":0},{"text":"b","index":1,"finish_reason":"stop"}],"usage":null}`,
			texts: []string{"a", "b"}, choices: []int{0, 1}, finished: []int{1},
		},
		{
			name:  "responses",
			route: Responses,
			body: `{"output":[{"type":"reasoning","summary":[]},{"type":"message","content":[{"type":"output_text","text":"t"},{"type":"refusal","refusal":"no"}]},` +
				`{"type":"function_call","arguments":"{}"}],"usage":{"input_tokens":5,"output_tokens":6}}`,
			texts: []string{"t", "no", "{}"}, choices: []int{1, 1, 2}, usage: Usage{5, 6, true},
		},
		{
			name:  "embeddings",
			route: Embeddings,
			body:  `{"data":[{"embedding":"AAAA"}],"usage":{"prompt_tokens":2}}`,
			usage: Usage{2, 0, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse(tt.route, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Texts) != len(tt.texts) {
				t.Fatalf("texts %+v, want %q", r.Texts, tt.texts)
			}
			for i, want := range tt.texts {
				if r.Texts[i].Text != want || r.Texts[i].Choice != tt.choices[i] {
					t.Errorf("text %d = %q (choice %d), want %q (choice %d)", i, r.Texts[i].Text, r.Texts[i].Choice, want, tt.choices[i])
				}
			}
			if r.Usage != tt.usage {
				t.Errorf("usage %+v, want %+v", r.Usage, tt.usage)
			}
			if len(r.Finished) != len(tt.finished) || (len(tt.finished) > 0 && r.Finished[0] != tt.finished[0]) {
				t.Errorf("finished %v, want %v", r.Finished, tt.finished)
			}
			checkPaths(t, []byte(tt.body), r.Texts)
		})
	}
	for _, bad := range []string{``, `[]`, `{"choices":[`, `{"choices":[{"message":{"content":5}}]} x`, "{}\x00",
		`{"choices":[{"message":{"content":"SECRET","content":"benign"}}]}`} {
		if _, err := ParseResponse(ChatCompletions, []byte(bad)); err == nil {
			t.Errorf("ParseResponse(%q) accepted it", bad)
		}
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		data  string
		typ   string
		delta string
		part  PartID
		texts []string
	}{
		{`{"type":"response.output_text.delta","output_index":1,"content_index":2,"delta":"ab"}`, "response.output_text.delta", "ab",
			PartID{"output_text", 1, 2}, nil},
		{`{"type":"response.function_call_arguments.delta","output_index":0,"delta":"{"}`, "response.function_call_arguments.delta", "{",
			PartID{"function_call_arguments", 0, 0}, nil},
		{`{"type":"response.output_text.done","output_index":0,"content_index":0,"text":"whole"}`, "response.output_text.done", "",
			PartID{"", 0, 0}, []string{"whole"}},
		{`{"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"x"}]}]}}`, "response.completed", "",
			PartID{}, []string{"x"}},
		// Deltas of other kinds are checked whole.
		{`{"type":"response.audio_transcript.delta","delta":"spoken"}`, "response.audio_transcript.delta", "", PartID{}, []string{"spoken"}},
	}
	if _, err := ParseEvent([]byte(`{"type":"response.output_text.delta","delta":"a","delta":"b"}`)); err == nil {
		t.Error("an event with a duplicated delta was accepted")
	}
	for _, tt := range tests {
		e, err := ParseEvent([]byte(tt.data))
		if err != nil {
			t.Fatalf("%s: %v", tt.data, err)
		}
		if e.Type != tt.typ {
			t.Errorf("%s: type %q", tt.data, e.Type)
		}
		if (e.Delta != nil) != (tt.delta != "") || (e.Delta != nil && (e.Delta.Text != tt.delta || e.Part != tt.part)) {
			t.Errorf("%s: delta %+v part %+v", tt.data, e.Delta, e.Part)
		}
		if len(e.Texts) != len(tt.texts) {
			t.Fatalf("%s: texts %+v", tt.data, e.Texts)
		}
		for i := range tt.texts {
			if e.Texts[i].Text != tt.texts[i] {
				t.Errorf("%s: text %d = %q", tt.data, i, e.Texts[i].Text)
			}
		}
		checkPaths(t, []byte(tt.data), e.Texts)
	}
}

// FuzzParseResponse: upstream answers are untrusted too. Parsing never
// panics, accepts only valid JSON, and every text it reports can be found
// at its path and rewritten there.
func FuzzParseResponse(f *testing.F) {
	f.Add(uint8(0), []byte(`{"choices":[{"index":0,"message":{"content":"hi","tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`))
	f.Add(uint8(1), []byte(`{"choices":[{"text":"a","index":0}]}`))
	f.Add(uint8(3), []byte(`{"output":[{"type":"message","content":[{"type":"output_text","text":"t"}]}],"usage":{"input_tokens":5}}`))
	f.Add(uint8(4), []byte(`{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"d"}`))
	f.Add(uint8(4), []byte(`{"type":"response.completed","response":{"output":[{"content":[{"text":"x"}]}]},"part":{"text":"p"},"item":{"content":[{"text":"i"}]}}`))
	f.Fuzz(func(t *testing.T, r uint8, body []byte) {
		var texts []Text
		if r%5 == 4 {
			e, err := ParseEvent(body)
			if err != nil {
				return
			}
			texts = e.Texts
			if e.Delta != nil {
				texts = append(texts, *e.Delta)
			}
		} else {
			resp, err := ParseResponse(Route(r%5+1), body)
			if err != nil {
				return
			}
			texts = resp.Texts
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var edits []Edit
		for _, tx := range texts {
			a, b, ok := Locate(body, tx.Path())
			if !ok {
				t.Fatalf("%s: not located in %q", tx.Field, body)
			}
			if v, err := DecodeString(body[a:b]); err != nil || v != tx.Text {
				t.Fatalf("%s: located %q, parsed %q", tx.Field, body[a:b], tx.Text)
			}
			edits = append(edits, Edit{Path: tx.Path(), Value: "<R>"})
		}
		out, err := Rewrite(body, edits)
		if err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("rewrite made invalid JSON: %q", out)
		}
	})
}
