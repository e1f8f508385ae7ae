// Package openai understands the OpenAI wire format as far as the gateway
// needs to: it finds the model, the streaming flag, the token caps and
// every piece of text in a request or a response, with the role that wrote
// it and a path to where it lives, and it edits those texts in place for
// redaction while keeping every other field as the client or the upstream
// sent it.
package openai

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
)

// Route is an API endpoint the gateway serves.
type Route uint8

// The routes.
const (
	ChatCompletions Route = iota + 1
	Completions
	Embeddings
	Responses
	Models
)

// Path returns the route's path under /v1.
func (r Route) Path() string {
	switch r {
	case ChatCompletions:
		return "/v1/chat/completions"
	case Completions:
		return "/v1/completions"
	case Embeddings:
		return "/v1/embeddings"
	case Responses:
		return "/v1/responses"
	case Models:
		return "/v1/models"
	}
	return ""
}

// UpstreamPath is the path appended to an upstream's base URL (which
// includes its /v1 prefix).
func (r Route) UpstreamPath() string {
	p := r.Path()
	if len(p) > 3 {
		return p[3:]
	}
	return p
}

// PathElem is one step of a path into a JSON document: an object key or,
// when Key is empty, an array index.
type PathElem struct {
	Key   string
	Index int
}

// Text is one piece of text found in a request or response.
type Text struct {
	// Role is who wrote it.
	Role detect.Role
	// Field is a readable path, e.g. "messages[2].content[0].text".
	Field string
	// Text is the decoded string.
	Text string
	// Message is the index of the message or input item it belongs to
	// (-1 for top-level fields such as instructions); Name is the
	// message's "name" field, for token counting.
	Message int
	Name    string
	// Choice is the response choice index (responses only).
	Choice int
	path   []PathElem
}

// Path returns the JSON path of the text.
func (t *Text) Path() []PathElem { return t.path }

// Request is what the gateway needs to know about a request body.
type Request struct {
	Route Route
	// Model is the "model" field as the client sent it.
	Model string
	// Stream is the "stream" field.
	Stream bool
	// MaxTokens is max_tokens, max_completion_tokens or max_output_tokens
	// (0 when absent).
	MaxTokens int
	// N is the number of choices asked for (default 1).
	N int
	// Texts are every text in the request, in document order.
	Texts []Text
	// Messages counts messages (chat), input items (responses) or inputs
	// (completions, embeddings).
	Messages int
	// TokenInputs counts inputs given as token arrays (not text); they are
	// counted as tokens directly.
	TokenInputs int
}

// Error is a client error in a request body; Param names the offending
// field, as OpenAI's errors do.
type Error struct {
	Param   string
	Message string
}

func (e *Error) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

func errf(param, format string, args ...any) error {
	return &Error{Param: param, Message: fmt.Sprintf(format, args...)}
}

// MaxDepth bounds JSON nesting in a request body.
const MaxDepth = 64

// ParseRequest parses a request body for route. It fails on invalid UTF-8,
// malformed JSON, nesting deeper than MaxDepth, a missing model, a
// duplicated key among the fields the gateway reads, or a field of the
// wrong type, and the error names the field.
func ParseRequest(route Route, body []byte) (*Request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errf("", "request body is empty; expected a JSON object")
	}
	if !utf8.Valid(body) {
		return nil, errf("", "request body is not valid UTF-8 (byte offset %d)", invalidUTF8Offset(body))
	}
	req := &Request{Route: route, N: 1}
	s := &scanner{b: body}
	if s.peek() != '{' {
		return nil, errf("", "request body must be a JSON object, got %s", kindOf(s.peek()))
	}
	var err error
	switch route {
	case ChatCompletions:
		err = parseChat(s, req)
	case Completions:
		err = parseCompletions(s, req)
	case Embeddings:
		err = parseEmbeddings(s, req)
	case Responses:
		err = parseResponses(s, req)
	default:
		return nil, fmt.Errorf("openai: route %d has no request body", route)
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, errf("", "request body is not valid JSON: %v", se)
		}
		return nil, err
	}
	if req.Model == "" {
		return nil, errf("model", "you must provide a model parameter")
	}
	if req.N < 1 {
		return nil, errf("n", "must be at least 1")
	}
	if req.MaxTokens < 0 {
		return nil, errf("max_tokens", "must not be negative")
	}
	return req, nil
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

func roleOf(s string) detect.Role {
	switch s {
	case "system", "developer":
		return detect.RoleSystem
	case "assistant":
		return detect.RoleAssistant
	case "tool", "function":
		return detect.RoleTool
	}
	return detect.RoleUser
}

func idx(i int) PathElem    { return PathElem{Index: i} }
func key(k string) PathElem { return PathElem{Key: k} }

func field(p []PathElem) string {
	var b []byte
	for _, e := range p {
		if e.Key != "" {
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, e.Key...)
		} else {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(e.Index), 10)
			b = append(b, ']')
		}
	}
	return string(b)
}

// add records a text found at the scanner's current path plus extra.
func (r *Request) add(s *scanner, role detect.Role, msg int, name, text string, extra ...PathElem) {
	p := make([]PathElem, 0, len(s.path)+len(extra))
	p = append(p, s.path...)
	p = append(p, extra...)
	r.Texts = append(r.Texts, Text{Role: role, Field: field(p), Text: text, Message: msg, Name: name, path: p})
}

// common reads the fields every route shares; it reports whether key was
// one of them.
func (r *Request) common(s *scanner, set *seen, k string) (bool, error) {
	var err error
	switch k {
	case "model":
		if err = s.once(set, 0, k); err == nil {
			s.push(key(k))
			r.Model, _, err = s.optString()
			s.pop()
		}
	case "stream":
		if err = s.once(set, 1, k); err == nil {
			s.push(key(k))
			r.Stream, err = s.boolean()
			s.pop()
		}
	case "n":
		if err = s.once(set, 2, k); err == nil {
			s.push(key(k))
			var n int
			var ok bool
			n, ok, err = s.integer()
			if ok {
				r.N = n
			}
			s.pop()
		}
	case "max_tokens", "max_completion_tokens", "max_output_tokens":
		// max_completion_tokens supersedes max_tokens when both are set.
		bit := uint(3)
		if k == "max_tokens" {
			bit = 4
		}
		if err = s.once(set, bit, k); err == nil {
			s.push(key(k))
			var n int
			var ok bool
			n, ok, err = s.integer()
			if ok && (k != "max_tokens" || *set&(1<<3) == 0) {
				r.MaxTokens = n
			}
			s.pop()
		}
	default:
		return false, nil
	}
	return true, err
}

// Bits 8 and up of a seen set are free for route-specific keys.
const (
	bitMessages = 8 + iota
	bitPrompt
	bitSuffix
	bitInput
	bitInstructions
)

func parseChat(s *scanner, req *Request) error {
	var set seen
	hasMessages := false
	err := s.object(func(k string) error {
		if ok, err := req.common(s, &set, k); ok || err != nil {
			return err
		}
		if k != "messages" {
			_, _, err := s.skip()
			return err
		}
		if err := s.once(&set, bitMessages, k); err != nil {
			return err
		}
		s.push(key(k))
		defer s.pop()
		if s.peek() != '[' {
			return s.typeError("an array of messages")
		}
		hasMessages = true
		return s.array(func(i int) error {
			req.Messages++
			s.push(idx(i))
			defer s.pop()
			return parseChatMessage(s, req, i)
		})
	})
	if err != nil {
		return err
	}
	if !hasMessages {
		return errf("messages", "you must provide a messages parameter")
	}
	if req.Messages == 0 {
		return errf("messages", "must contain at least one message")
	}
	return nil
}

// pendingText is a text whose role is known only once the whole message
// has been read (the role key may come after the content).
type pendingText struct {
	text string
	path []PathElem
}

// collect reads a string or null at the scanner and, for a string, adds it
// with its path (plus extra) to texts.
func (s *scanner) collect(texts *[]pendingText, extra []PathElem) error {
	v, ok, err := s.optString()
	if ok {
		p := make([]PathElem, 0, len(s.path)+len(extra))
		p = append(append(p, s.path...), extra...)
		*texts = append(*texts, pendingText{text: v, path: p})
	}
	return err
}

func parseChatMessage(s *scanner, req *Request, i int) error {
	if s.peek() != '{' {
		return s.typeError("a message object")
	}
	var set seen
	var role, name string
	var texts []pendingText
	collect := func(extra ...PathElem) error { return s.collect(&texts, extra) }
	err := s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "role":
			if err := s.once(&set, 0, k); err != nil {
				return err
			}
			if s.peek() != '"' {
				return s.typeError("a string")
			}
			var err error
			role, err = s.str()
			return err
		case "name":
			if err := s.once(&set, 1, k); err != nil {
				return err
			}
			var err error
			name, _, err = s.optString()
			return err
		case "content":
			if err := s.once(&set, 2, k); err != nil {
				return err
			}
			switch s.peek() {
			case '"', 'n':
				return collect()
			case '[':
				return s.array(func(j int) error {
					s.push(idx(j))
					defer s.pop()
					return parseContentPart(s, collect)
				})
			}
			return s.typeError("a string, null or an array of content parts")
		case "tool_calls":
			if err := s.once(&set, 3, k); err != nil {
				return err
			}
			if s.peek() == 'n' {
				return s.literal("null")
			}
			if s.peek() != '[' {
				return s.typeError("an array")
			}
			return s.array(func(j int) error {
				s.push(idx(j))
				defer s.pop()
				return parseToolCall(s, collect)
			})
		case "function_call":
			if err := s.once(&set, 4, k); err != nil {
				return err
			}
			return parseFunction(s, collect)
		}
		_, _, err := s.skip()
		return err
	})
	if err != nil {
		return err
	}
	if role == "" {
		return errf(field(s.path)+".role", "is required")
	}
	r := roleOf(role)
	for _, t := range texts {
		req.Texts = append(req.Texts, Text{Role: r, Field: field(t.path), Text: t.text, Message: i, Name: name, path: t.path})
	}
	return nil
}

// parseContentPart reads {"type": …, "text": …} or a refusal part; other
// part types (images, audio, files) carry no text and are skipped.
func parseContentPart(s *scanner, collect func(...PathElem) error) error {
	if s.peek() != '{' {
		return s.typeError("a content part object")
	}
	var set seen
	return s.object(func(k string) error {
		switch k {
		case "text", "refusal":
			bit := uint(0)
			if k == "refusal" {
				bit = 1
			}
			if err := s.once(&set, bit, k); err != nil {
				return err
			}
			s.push(key(k))
			defer s.pop()
			if s.peek() == '{' || s.peek() == '[' {
				// Not a text part (e.g. a structured annotation); skip it.
				_, _, err := s.skip()
				return err
			}
			return collect()
		}
		_, _, err := s.skip()
		return err
	})
}

func parseToolCall(s *scanner, collect func(...PathElem) error) error {
	if s.peek() != '{' {
		return s.typeError("a tool call object")
	}
	return s.only("function", func() error { return parseFunction(s, collect) })
}

func parseFunction(s *scanner, collect func(...PathElem) error) error {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if s.peek() != '{' {
		return s.typeError("an object")
	}
	return s.only("arguments", func() error { return collect() })
}

// only walks the object at the scanner, skipping every key but name; at
// name's value (with the path pushed) it calls fn, and it refuses name
// twice.
func (s *scanner) only(name string, fn func() error) error {
	var set seen
	return s.object(func(k string) error {
		if k != name {
			_, _, err := s.skip()
			return err
		}
		if err := s.once(&set, 0, k); err != nil {
			return err
		}
		s.push(key(k))
		defer s.pop()
		return fn()
	})
}

// parseInputs reads a prompt or an embeddings input: a string, an array of
// strings, an array of token ids, or an array of arrays of token ids.
func parseInputs(s *scanner, req *Request) error {
	switch s.peek() {
	case '"':
		v, err := s.str()
		if err != nil {
			return err
		}
		req.Messages = 1
		req.add(s, detect.RoleUser, 0, "", v)
		return nil
	case '[':
	default:
		return s.typeError("a string or an array")
	}
	return s.array(func(i int) error {
		s.push(idx(i))
		defer s.pop()
		switch c := s.peek(); {
		case c == '"':
			v, err := s.str()
			if err != nil {
				return err
			}
			req.Messages++
			req.add(s, detect.RoleUser, i, "", v)
			return nil
		case c == '-' || (c >= '0' && c <= '9'):
			if _, err := s.number(); err != nil {
				return err
			}
			if i == 0 {
				req.Messages++
			}
			req.TokenInputs++
			return nil
		case c == '[':
			req.Messages++
			return s.array(func(int) error {
				if c := s.peek(); c != '-' && (c < '0' || c > '9') {
					return s.typeError("a token id")
				}
				_, err := s.number()
				req.TokenInputs++
				return err
			})
		}
		return s.typeError("a string, a token id or an array of token ids")
	})
}

func parseCompletions(s *scanner, req *Request) error {
	var set seen
	hasPrompt := false
	err := s.object(func(k string) error {
		if ok, err := req.common(s, &set, k); ok || err != nil {
			return err
		}
		switch k {
		case "prompt":
			if err := s.once(&set, bitPrompt, k); err != nil {
				return err
			}
			hasPrompt = true
			s.push(key(k))
			defer s.pop()
			return parseInputs(s, req)
		case "suffix":
			if err := s.once(&set, bitSuffix, k); err != nil {
				return err
			}
			s.push(key(k))
			defer s.pop()
			v, ok, err := s.optString()
			if ok {
				req.add(s, detect.RoleUser, -1, "", v)
			}
			return err
		}
		_, _, err := s.skip()
		return err
	})
	if err != nil {
		return err
	}
	if !hasPrompt {
		return errf("prompt", "you must provide a prompt parameter")
	}
	return nil
}

func parseEmbeddings(s *scanner, req *Request) error {
	var set seen
	hasInput := false
	err := s.object(func(k string) error {
		if ok, err := req.common(s, &set, k); ok || err != nil {
			return err
		}
		if k != "input" {
			_, _, err := s.skip()
			return err
		}
		if err := s.once(&set, bitInput, k); err != nil {
			return err
		}
		hasInput = true
		s.push(key(k))
		defer s.pop()
		return parseInputs(s, req)
	})
	if err != nil {
		return err
	}
	if !hasInput {
		return errf("input", "you must provide an input parameter")
	}
	return nil
}

func parseResponses(s *scanner, req *Request) error {
	var set seen
	return s.object(func(k string) error {
		if ok, err := req.common(s, &set, k); ok || err != nil {
			return err
		}
		switch k {
		case "instructions":
			if err := s.once(&set, bitInstructions, k); err != nil {
				return err
			}
			s.push(key(k))
			defer s.pop()
			v, ok, err := s.optString()
			if ok {
				req.add(s, detect.RoleSystem, -1, "", v)
			}
			return err
		case "input":
			if err := s.once(&set, bitInput, k); err != nil {
				return err
			}
			s.push(key(k))
			defer s.pop()
			switch s.peek() {
			case '"':
				v, err := s.str()
				req.Messages = 1
				req.add(s, detect.RoleUser, 0, "", v)
				return err
			case '[':
				return s.array(func(i int) error {
					req.Messages++
					s.push(idx(i))
					defer s.pop()
					return parseResponsesItem(s, req, i)
				})
			}
			return s.typeError("a string or an array of input items")
		}
		_, _, err := s.skip()
		return err
	})
}

// parseResponsesItem reads one Responses API input item: a message
// ({role, content}), a tool output ({type: "function_call_output", output})
// or a tool call ({type: "function_call", arguments}).
func parseResponsesItem(s *scanner, req *Request, i int) error {
	if s.peek() != '{' {
		return s.typeError("an input item object")
	}
	var set seen
	var typ, role string
	var texts []pendingText
	collect := func(extra ...PathElem) error { return s.collect(&texts, extra) }
	parts := func() error {
		switch s.peek() {
		case '"', 'n':
			return collect()
		case '[':
			return s.array(func(j int) error {
				s.push(idx(j))
				defer s.pop()
				return parseContentPart(s, collect)
			})
		}
		return s.typeError("a string or an array of content parts")
	}
	err := s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		var err error
		switch k {
		case "type":
			if err = s.once(&set, 0, k); err == nil {
				typ, _, err = s.optString()
			}
			return err
		case "role":
			if err = s.once(&set, 1, k); err == nil {
				role, _, err = s.optString()
			}
			return err
		case "content":
			if err = s.once(&set, 2, k); err == nil {
				err = parts()
			}
			return err
		case "output":
			if err = s.once(&set, 3, k); err == nil {
				err = parts()
			}
			return err
		case "arguments", "input":
			// function_call.arguments and custom_tool_call.input.
			bit := uint(4)
			if k == "input" {
				bit = 5
			}
			if err = s.once(&set, bit, k); err == nil {
				if c := s.peek(); c == '"' || c == 'n' {
					err = collect()
				} else {
					_, _, err = s.skip()
				}
			}
			return err
		}
		_, _, err = s.skip()
		return err
	})
	if err != nil {
		return err
	}
	r := roleOf(role)
	switch typ {
	case "function_call_output", "custom_tool_call_output", "computer_call_output", "local_shell_call_output", "mcp_call_output", "mcp_call":
		r = detect.RoleTool
	case "function_call", "custom_tool_call":
		r = detect.RoleAssistant
	}
	for _, t := range texts {
		req.Texts = append(req.Texts, Text{Role: r, Field: field(t.path), Text: t.text, Message: i, path: t.path})
	}
	return nil
}
