package openai

import (
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/detect"
)

// Usage is the token usage a response reports.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	// Present is true when the response carried a usage object.
	Present bool
}

// Response is what the gateway needs from a non-streamed response body.
type Response struct {
	Texts []Text
	Usage Usage
	// Finished lists the choices whose finish_reason is set (chunks).
	Finished []int
}

// ParseResponse reads a non-streamed response body of route: the texts
// the model produced (message contents, refusals, tool-call arguments,
// completion texts, Responses API output texts) and the usage.
func ParseResponse(route Route, body []byte) (*Response, error) {
	s := &scanner{b: body}
	if s.peek() != '{' {
		return nil, fmt.Errorf("upstream response is not a JSON object (starts with %s)", kindOf(s.peek()))
	}
	resp := &Response{}
	var err error
	switch route {
	case ChatCompletions, Completions:
		err = s.object(func(k string) error {
			switch k {
			case "choices":
				s.push(key(k))
				defer s.pop()
				return parseChoices(s, func(choice int) error {
					return parseChoiceBody(s, resp, choice, route)
				})
			case "usage":
				return parseUsage(s, &resp.Usage)
			}
			_, _, err := s.skip()
			return err
		})
	case Responses:
		err = parseResponseObject(s, resp)
	case Embeddings:
		err = s.object(func(k string) error {
			if k == "usage" {
				return parseUsage(s, &resp.Usage)
			}
			_, _, err := s.skip()
			return err
		})
	default:
		_, _, err = s.skip()
	}
	if err == nil {
		err = s.end()
	}
	if err == nil {
		err = uniqueFields(resp.Texts)
	}
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("upstream response is not valid JSON: %w", se)
		}
		return nil, fmt.Errorf("upstream response: %w", err)
	}
	return resp, nil
}

// uniqueFields refuses two texts at one path: a duplicated key. The
// detectors would judge one value and a client would read another (most
// JSON parsers keep the last), and a redaction could land on the wrong one.
func uniqueFields(texts []Text) error {
	if len(texts) < 2 {
		return nil
	}
	seen := make(map[string]struct{}, len(texts))
	for _, t := range texts {
		if _, dup := seen[t.Field]; dup {
			return fmt.Errorf("duplicate key at %s", t.Field)
		}
		seen[t.Field] = struct{}{}
	}
	return nil
}

// addText reads a string or null at the scanner and, for a string, adds it
// as model output of the given choice (or output item).
func (r *Response) addText(s *scanner, choice int) error {
	v, ok, err := s.optString()
	if ok {
		p := append([]PathElem(nil), s.path...)
		r.Texts = append(r.Texts, Text{Role: detect.RoleAssistant, Field: field(p), Text: v, Message: -1, Choice: choice, path: p})
	}
	return err
}

// parseChoices walks a "choices" array, reading each choice's "index" is
// not needed: the array position is used, as OpenAI keeps them equal.
func parseChoices(s *scanner, fn func(choice int) error) error {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	return s.array(func(i int) error {
		s.push(idx(i))
		defer s.pop()
		return fn(i)
	})
}

// parseChoiceBody reads one choice of a chat or completions response (or a
// chunk): message/delta content, refusal, tool-call arguments and text.
func parseChoiceBody(s *scanner, resp *Response, choice int, route Route) error {
	if s.peek() != '{' {
		_, _, err := s.skip()
		return err
	}
	add := func() error { return resp.addText(s, choice) }
	first := len(resp.Texts)
	index := -1
	finished := false
	err := s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "index":
			n, ok, err := s.integer()
			if ok {
				index = n
			}
			return err
		case "finish_reason":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			finished = true
		case "text":
			if route == Completions {
				return add()
			}
		case "message", "delta":
			return parseMessageBody(s, resp, add)
		}
		_, _, err := s.skip()
		return err
	})
	// Streamed chunks carry one choice at array position 0 with its real
	// index in "index".
	if index < 0 {
		index = choice
	}
	for i := first; i < len(resp.Texts); i++ {
		resp.Texts[i].Choice = index
	}
	if finished {
		resp.Finished = append(resp.Finished, index)
	}
	return err
}

func parseMessageBody(s *scanner, resp *Response, add func() error) error {
	if s.peek() != '{' {
		_, _, err := s.skip()
		return err
	}
	return s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "content", "refusal":
			if c := s.peek(); c == '"' || c == 'n' {
				return add()
			}
		case "tool_calls":
			if s.peek() == '[' {
				return s.array(func(j int) error {
					s.push(idx(j))
					defer s.pop()
					return walkToolCall(s, resp, add, j)
				})
			}
		case "function_call":
			return walkArguments(s, add)
		}
		_, _, err := s.skip()
		return err
	})
}

// walkToolCall reads one tool call: its function's arguments, and its
// "index" (streamed tool calls are told apart by it, not by their position
// in the chunk), which becomes the texts' Message.
func walkToolCall(s *scanner, resp *Response, add func() error, pos int) error {
	if s.peek() != '{' {
		_, _, err := s.skip()
		return err
	}
	first := len(resp.Texts)
	tool := pos
	err := s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "index":
			n, ok, err := s.integer()
			if ok {
				tool = n
			}
			return err
		case "function":
			return walkArguments(s, add)
		}
		_, _, err := s.skip()
		return err
	})
	for i := first; i < len(resp.Texts); i++ {
		resp.Texts[i].Message = tool
	}
	return err
}

// walkArguments finds function.arguments (or arguments) in a tool call.
func walkArguments(s *scanner, add func() error) error {
	if s.peek() != '{' {
		_, _, err := s.skip()
		return err
	}
	return s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "function":
			return walkArguments(s, add)
		case "arguments":
			if c := s.peek(); c == '"' || c == 'n' {
				return add()
			}
		}
		_, _, err := s.skip()
		return err
	})
}

// parseUsage reads {"prompt_tokens", "completion_tokens"} or the Responses
// API's {"input_tokens", "output_tokens"}.
func parseUsage(s *scanner, u *Usage) error {
	if s.peek() != '{' {
		_, _, err := s.skip()
		return err
	}
	u.Present = true
	return s.object(func(k string) error {
		switch k {
		case "prompt_tokens", "input_tokens":
			n, _, err := s.integer()
			u.PromptTokens = n
			return err
		case "completion_tokens", "output_tokens":
			n, _, err := s.integer()
			u.CompletionTokens = n
			return err
		}
		_, _, err := s.skip()
		return err
	})
}

// parseResponseObject reads a Responses API response object: output items
// and usage.
func parseResponseObject(s *scanner, resp *Response) error {
	if s.peek() != '{' {
		return s.typeError("a response object")
	}
	return s.object(func(k string) error {
		switch k {
		case "output":
			s.push(key(k))
			defer s.pop()
			if s.peek() != '[' {
				_, _, err := s.skip()
				return err
			}
			return s.array(func(i int) error {
				s.push(idx(i))
				defer s.pop()
				return parseOutputItem(s, resp, i)
			})
		case "usage":
			return parseUsage(s, &resp.Usage)
		}
		_, _, err := s.skip()
		return err
	})
}

// parseOutputItem reads a Responses API output item: a message's
// output_text and refusal parts, or a function call's arguments.
func parseOutputItem(s *scanner, resp *Response, item int) error {
	if s.peek() != '{' {
		_, _, err := s.skip()
		return err
	}
	add := func() error { return resp.addText(s, item) }
	return s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "content":
			if s.peek() == '[' {
				return s.array(func(j int) error {
					s.push(idx(j))
					defer s.pop()
					if s.peek() != '{' {
						_, _, err := s.skip()
						return err
					}
					return s.object(func(k string) error {
						s.push(key(k))
						defer s.pop()
						if (k == "text" || k == "refusal") && s.peek() == '"' {
							return add()
						}
						_, _, err := s.skip()
						return err
					})
				})
			}
		case "arguments":
			if s.peek() == '"' {
				return add()
			}
		}
		_, _, err := s.skip()
		return err
	})
}
