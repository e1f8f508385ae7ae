package openai

import (
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/detect"
)

// ParseChunk reads one streamed chat or completions chunk (the JSON of a
// "data:" line): its texts — each Text.Choice is the choice index — and
// usage when the upstream sends it.
func ParseChunk(route Route, data []byte) (*Response, error) {
	return ParseResponse(route, data)
}

// Event is a Responses API stream event, as far as the gateway needs it.
type Event struct {
	// Type is the event's "type", e.g. "response.output_text.delta".
	Type string
	// Delta is the streamed text of a *.delta event (nil otherwise), with
	// its path in the event; Part identifies the stream it belongs to.
	Delta *Text
	Part  PartID
	// Texts are complete texts carried by other events (*.done,
	// response.completed, output_item.done…), each to be redacted whole.
	Texts []Text
	// Usage is set by response.completed and similar.
	Usage Usage
}

// PartID names one streamed text of a Responses API stream.
type PartID struct {
	Kind         string // "output_text", "refusal", "function_call_arguments"
	OutputIndex  int
	ContentIndex int
}

// ParseEvent reads a Responses API stream event.
func ParseEvent(data []byte) (*Event, error) {
	s := &scanner{b: data}
	if s.peek() != '{' {
		return nil, fmt.Errorf("stream event is not a JSON object (starts with %s)", kindOf(s.peek()))
	}
	ev := &Event{}
	var delta *Text
	resp := &Response{}
	err := s.object(func(k string) error {
		s.push(key(k))
		defer s.pop()
		switch k {
		case "type":
			v, _, err := s.optString()
			ev.Type = v
			return err
		case "output_index":
			n, _, err := s.integer()
			ev.Part.OutputIndex = n
			return err
		case "content_index":
			n, _, err := s.integer()
			ev.Part.ContentIndex = n
			return err
		case "delta":
			if delta != nil {
				return fmt.Errorf("duplicate key at delta")
			}
			if s.peek() == '"' {
				v, err := s.str()
				delta = &Text{Role: detect.RoleAssistant, Field: "delta", Text: v, Message: -1, path: []PathElem{key("delta")}}
				return err
			}
		case "text", "refusal", "arguments":
			if s.peek() == '"' {
				v, err := s.str()
				resp.Texts = append(resp.Texts, Text{Role: detect.RoleAssistant, Field: k, Text: v, Message: -1, path: []PathElem{key(k)}})
				return err
			}
		case "part":
			// content_part.added/done: {"part": {"type": "output_text", "text": …}}
			if s.peek() == '{' {
				return s.object(func(k string) error {
					s.push(key(k))
					defer s.pop()
					if (k == "text" || k == "refusal") && s.peek() == '"' {
						v, err := s.str()
						p := append([]PathElem(nil), s.path...)
						resp.Texts = append(resp.Texts, Text{Role: detect.RoleAssistant, Field: field(p), Text: v, Message: -1, path: p})
						return err
					}
					_, _, err := s.skip()
					return err
				})
			}
		case "item":
			return parseOutputItem(s, resp, -1)
		case "response":
			return parseResponseObject(s, resp)
		}
		_, _, err := s.skip()
		return err
	})
	if err == nil {
		err = s.end()
	}
	if err == nil {
		texts := resp.Texts
		if delta != nil {
			texts = append(texts, *delta)
		}
		err = uniqueFields(texts)
	}
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("stream event is not valid JSON: %w", se)
		}
		return nil, fmt.Errorf("stream event: %w", err)
	}
	ev.Texts = resp.Texts
	ev.Usage = resp.Usage
	if delta != nil {
		switch ev.Type {
		case "response.output_text.delta":
			ev.Part.Kind = "output_text"
		case "response.refusal.delta":
			ev.Part.Kind = "refusal"
		case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
			ev.Part.Kind = "function_call_arguments"
		default:
			// Other deltas (audio transcripts, reasoning summaries) are
			// checked whole, like complete texts.
			ev.Texts = append(ev.Texts, *delta)
			delta = nil
		}
		ev.Delta = delta
	}
	return ev, nil
}
