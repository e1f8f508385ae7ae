package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rampartsec/rampart/anonymize"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/gateway/openai"
	"github.com/rampartsec/rampart/gateway/sse"
	"github.com/rampartsec/rampart/policy"
	"github.com/rampartsec/rampart/redact"
)

// maxCountedText bounds how much of a streamed text is kept for counting
// its tokens and for excerpts; beyond it tokens are estimated.
const maxCountedText = 1 << 20

// partKey names one streamed text: a choice's content, refusal or a tool
// call's arguments (chat and completions), or an output part (Responses).
type partKey struct {
	a, b int
	kind string
}

// part is the redaction state of one streamed text.
type part struct {
	s *redact.Stream
	// rest restores placeholders and strips the canary after redaction
	// (nil when the request has neither).
	rest     *anonymize.Restorer
	raw      strings.Builder // what the upstream sent, for tokens and excerpts
	rawBytes int
	// template is the last event that carried this part, to build the event
	// that releases the held-back tail; path is where the text sits in it
	// and others are the other texts in it (blanked in the copy).
	template []byte
	evType   string
	path     []openai.PathElem
	others   [][]openai.PathElem
	field    string
	// done is set once the part has been flushed.
	done bool
}

// streamer relays an upstream event stream to the client, redacting and
// checking output as it goes.
type streamer struct {
	c      *call
	w      http.ResponseWriter
	rc     *http.ResponseController
	rules  []*policy.Rule
	byName map[string]*policy.Rule
	// replacers is set when an output rule's detector renders its own
	// replacement (detect.Replacer).
	replacers bool
	parts     map[partKey]*part
	order     []partKey
	buf       []byte
	// sawDelta is set once a streamed delta was seen (Responses): whole
	// texts in later events are then checked without recording findings
	// again.
	sawDelta bool
	finished map[int]bool
	ended    bool // the stream was ended (completed, blocked or failed)
	werr     error
	upStart  time.Time
	settled  bool
	dirty    bool // written but not flushed
}

func (c *call) stream(resp *http.Response, upStart time.Time) {
	s := &streamer{
		c: c, w: c.w, rc: http.NewResponseController(c.w),
		parts: make(map[partKey]*part), finished: make(map[int]bool), upStart: upStart,
	}
	if c.pol != nil {
		s.rules = c.outRules
		s.byName = make(map[string]*policy.Rule, len(s.rules))
		for _, r := range s.rules {
			s.byName[r.Name] = r
			if _, ok := r.Detector.(detect.Replacer); ok {
				s.replacers = true
			}
		}
	}
	h := c.w.Header()
	copyResponseHeaders(h, resp.Header)
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	c.status = resp.StatusCode
	c.w.WriteHeader(resp.StatusCode)
	_ = s.rc.Flush()

	r := sse.NewReader(resp.Body, int(c.st.cfg.Server.MaxResponseBytes))
	terminal := false
	for !s.ended {
		ev, err := r.Next()
		if err != nil {
			c.upstreamDur = time.Since(upStart)
			if err == io.EOF && (terminal || s.complete()) {
				// A clean end without the [DONE] sentinel: some servers omit it.
				s.flushAll()
				s.end(nil)
				break
			}
			s.cut(err)
			break
		}
		if c.ctx.Err() != nil {
			// The client went away; the deferred cancel stops the upstream.
			c.upstreamDur = time.Since(upStart)
			c.decision, c.errMsg = decError, "client closed the stream"
			s.ended = true
			break
		}
		if c.spec.route == openai.Responses {
			terminal = s.responsesEvent(ev)
		} else {
			s.chunk(ev)
		}
		// Flush when the upstream has nothing more waiting, as a reverse
		// proxy does: events that arrived together leave together.
		if r.Buffered() == 0 {
			s.flushOut()
		}
		if s.werr != nil {
			c.upstreamDur = time.Since(upStart)
			c.decision, c.errMsg = decError, "client closed the stream"
			break
		}
	}
	s.flushOut()
	s.settle()
}

// settle records the upstream time and the completion tokens, once, before
// the audit record is written.
func (s *streamer) settle() {
	if s.settled {
		return
	}
	s.settled = true
	if s.c.upstreamDur == 0 {
		s.c.upstreamDur = time.Since(s.upStart)
	}
	s.countTokens()
}

// complete reports whether every choice seen has finished (chat streams
// that end without [DONE]).
func (s *streamer) complete() bool {
	if s.c.spec.route == openai.Responses || len(s.finished) == 0 {
		return false
	}
	for k := range s.parts {
		if !s.finished[k.a] {
			return false
		}
	}
	return true
}

// partFor returns the state of a streamed text, creating it.
func (s *streamer) partFor(k partKey) *part {
	p := s.parts[k]
	if p != nil {
		return p
	}
	p = &part{}
	if s.c.restoring() {
		p.rest = anonymize.NewRestorer(s.c.vault(), s.c.strip...)
	}
	if len(s.rules) > 0 {
		var replace func(string, detect.Hit, string) string
		if sess := s.c.sess; sess != nil || s.replacers {
			replace = func(name string, h detect.Hit, v string) string {
				if r := s.byName[name]; r != nil {
					return r.Replace(sess, h, v)
				}
				if sess == nil {
					return redact.StyleLabel.Mask(h.Label)
				}
				return sess.Replace(anonymize.Mask, h.Label, v)
			}
		}
		dets := make([]detect.Detector, len(s.rules))
		names := make([]string, len(s.rules))
		for i, r := range s.rules {
			dets[i], names[i] = r.Detector, r.Name
		}
		p.s = redact.NewStream(s.c.ctx, redact.StreamConfig{
			Detectors: dets, Names: names,
			Redact: func(name string, h detect.Hit) bool {
				r := s.byName[name]
				return r != nil && h.Score >= r.Threshold && r.Replaces()
			},
			OnError: func(name string, err error) bool {
				r := s.byName[name]
				s.c.g.metrics.detErrs.WithLabelValues(name).Inc()
				if r != nil && r.FailOpen {
					s.c.g.log.Warn("output detector failed; going on without it (on_error: allow)", "request_id", s.c.id, "detector", name, "err", err)
					return true
				}
				return false
			},
			Style: redact.StyleLabel, Replace: replace, Role: detect.RoleAssistant, Surface: detect.SurfaceResponse,
		})
	}
	s.parts[k] = p
	s.order = append(s.order, k)
	return p
}

// write passes a streamed text through its part and returns what may be
// released now. ok is false when the stream was ended (blocked or a
// detector failed closed).
func (s *streamer) write(p *part, text string) (string, bool) {
	if p.rawBytes < maxCountedText {
		p.raw.WriteString(text)
	}
	p.rawBytes += len(text)
	if p.s == nil {
		return p.restore(text, false), true
	}
	rel, hits, err := p.s.Write(text)
	if !s.judge(p, hits, err) {
		return "", false
	}
	return p.restore(rel, false), true
}

// restore passes released text through the part's restorer; final flushes
// it.
func (p *part) restore(text string, final bool) string {
	if p.rest == nil {
		return text
	}
	out := p.rest.Write(text)
	if final {
		out += p.rest.Flush()
	}
	return out
}

// drain releases a part's held-back tail.
func (s *streamer) drain(p *part) (string, bool) {
	if p.done {
		return "", true
	}
	p.done = true
	if p.s == nil {
		return p.restore("", true), true
	}
	rel, hits, err := p.s.Flush()
	if !s.judge(p, hits, err) {
		return "", false
	}
	return p.restore(rel, true), true
}

// judge records hits and ends the stream on a block or a detector failure.
func (s *streamer) judge(p *part, hits []redact.Hit, err error) bool {
	c := s.c
	if err != nil {
		// A failing detector whose rule fails open was dropped by the
		// stream (OnError); any error left ends the stream.
		name := "output detector"
		var de *redact.DetectorError
		if errors.As(err, &de) {
			name = de.Detector
		}
		c.g.log.Error("output detector failed; ending the stream (fail closed)", "request_id", c.id, "detector", name, "err", err)
		s.fail(&openai.APIError{Type: openai.TypePolicy, Code: "detector_failed", Detector: name, Policy: c.pol.Name,
			Message: fmt.Sprintf("stream ended by Rampart: detector %q failed and policy %q fails closed (request id %s)", name, c.pol.Name, c.id)}, decBlock)
		return false
	}
	var blocked *redact.Hit
	var out policy.Outcome
	for i := range hits {
		h := &hits[i]
		r := s.byName[h.Detector]
		if r == nil || h.Score < r.Threshold {
			continue
		}
		out.Hits = append(out.Hits, policy.Hit{Hit: h.Hit, Rule: r})
		if r.Action > out.Action {
			out.Action = r.Action
		}
		if r.Action == policy.Block && blocked == nil {
			blocked = h
		}
	}
	if len(out.Hits) > 0 {
		raw := p.raw.String()
		c.record("output", out, func(int) string { return p.field }, func(int) string {
			if p.rawBytes <= maxCountedText {
				return raw
			}
			return ""
		})
	}
	if blocked != nil {
		r := s.byName[blocked.Detector]
		rule := ""
		if blocked.Rule != nil {
			rule = blocked.Rule.ID
		}
		s.fail(&openai.APIError{Type: openai.TypePolicy, Code: "content_blocked", Detector: r.Name, Rule: rule, Policy: c.pol.Name,
			Message: fmt.Sprintf("stream ended by Rampart policy %q: detector %q found %s in the output at %s (request id %s)",
				c.pol.Name, r.Name, rule, p.field, c.id)}, decBlock)
		return false
	}
	return true
}

// chunk handles one chat or completions stream event.
func (s *streamer) chunk(ev sse.Event) {
	if string(ev.Data) == "[DONE]" {
		s.flushAll()
		s.end(ev.Data)
		return
	}
	ch, err := openai.ParseChunk(s.c.spec.route, ev.Data)
	if err != nil {
		s.fail(&openai.APIError{Type: openai.TypeUpstream, Code: "upstream_malformed_response",
			Message: fmt.Sprintf("upstream %q sent a malformed stream event: %v", s.c.up.name, err)}, decError)
		return
	}
	if ch.Usage.Present {
		s.usage(ch.Usage)
	}
	// Pass the texts through their parts.
	var edits []openai.Edit
	for i := range ch.Texts {
		t := &ch.Texts[i]
		if t.Text == "" {
			continue
		}
		k := chunkKey(t)
		p := s.partFor(k)
		s.remember(p, ev, t, ch.Texts)
		rel, ok := s.write(p, t.Text)
		if !ok {
			return
		}
		if s.finishing(ch, k) {
			tail, ok := s.drain(p)
			if !ok {
				return
			}
			rel += tail
		}
		if rel != t.Text {
			edits = append(edits, openai.Edit{Path: t.Path(), Value: rel})
		}
	}
	// Choices that finish in this chunk release what their other parts
	// still hold, in events of their own, before this one.
	for _, choice := range ch.Finished {
		s.finished[choice] = true
		for _, k := range s.order {
			if k.a == choice && !s.parts[k].done && !inChunk(ch, k) {
				if !s.release(s.parts[k]) {
					return
				}
			}
		}
	}
	data := ev.Data
	if len(edits) > 0 {
		if data, err = openai.Rewrite(ev.Data, edits); err != nil {
			s.fail(&openai.APIError{Type: openai.TypeServer, Code: "internal_error",
				Message: "the gateway could not apply its redactions to the stream"}, decError)
			return
		}
	}
	s.emit(ev.Type, data)
}

// finishing reports whether the chunk finishes the choice of part k.
func (s *streamer) finishing(ch *openai.Response, k partKey) bool {
	for _, c := range ch.Finished {
		if c == k.a {
			return true
		}
	}
	return false
}

func inChunk(ch *openai.Response, k partKey) bool {
	for i := range ch.Texts {
		if chunkKey(&ch.Texts[i]) == k && ch.Texts[i].Text != "" {
			return true
		}
	}
	return false
}

// chunkKey identifies the streamed text a chunk's text continues.
func chunkKey(t *openai.Text) partKey {
	f := t.Field
	switch {
	case strings.HasSuffix(f, ".arguments"):
		return partKey{a: t.Choice, b: t.Message, kind: "tool"}
	case strings.HasSuffix(f, ".refusal"):
		return partKey{a: t.Choice, kind: "refusal"}
	}
	return partKey{a: t.Choice, kind: "content"}
}

// remember keeps the event as the part's template.
func (s *streamer) remember(p *part, ev sse.Event, t *openai.Text, all []openai.Text) {
	p.template = append(p.template[:0], ev.Data...)
	p.evType = ev.Type
	p.path = t.Path()
	p.field = t.Field
	p.others = p.others[:0]
	for i := range all {
		if &all[i] != t {
			p.others = append(p.others, all[i].Path())
		}
	}
}

// release flushes a part and sends what it held in an event built from its
// template. It returns false when the stream was ended.
func (s *streamer) release(p *part) bool {
	tail, ok := s.drain(p)
	if !ok {
		return false
	}
	if tail == "" || p.template == nil {
		return true
	}
	edits := []openai.Edit{{Path: p.path, Value: tail}}
	for _, o := range p.others {
		edits = append(edits, openai.Edit{Path: o, Value: ""})
	}
	data, err := openai.Rewrite(p.template, edits)
	if err != nil {
		s.fail(&openai.APIError{Type: openai.TypeServer, Code: "internal_error",
			Message: "the gateway could not release the end of the stream"}, decError)
		return false
	}
	data = clearFinishReason(data)
	s.emit(p.evType, data)
	return true
}

// clearFinishReason makes a copied chunk not finish its choice: the event
// that releases a held tail goes before the one that finishes.
func clearFinishReason(data []byte) []byte {
	for i := 0; ; i++ {
		a, b, ok := openai.Locate(data, []openai.PathElem{{Key: "choices"}, {Index: i}, {Key: "finish_reason"}})
		if !ok {
			if _, _, more := openai.Locate(data, []openai.PathElem{{Key: "choices"}, {Index: i}}); !more {
				return data
			}
			continue
		}
		out := append([]byte(nil), data[:a]...)
		out = append(out, "null"...)
		data = append(out, data[b:]...)
	}
}

// flushAll releases every part still holding text.
func (s *streamer) flushAll() bool {
	for _, k := range s.order {
		if p := s.parts[k]; !p.done {
			if !s.release(p) {
				return false
			}
		}
	}
	return true
}

// responsesEvent handles one Responses API stream event and reports
// whether it was terminal.
func (s *streamer) responsesEvent(ev sse.Event) bool {
	e, err := openai.ParseEvent(ev.Data)
	if err != nil {
		s.fail(&openai.APIError{Type: openai.TypeUpstream, Code: "upstream_malformed_response",
			Message: fmt.Sprintf("upstream %q sent a malformed stream event: %v", s.c.up.name, err)}, decError)
		return true
	}
	if e.Usage.Present {
		s.usage(e.Usage)
	}
	typ := e.Type
	if typ == "" {
		typ = ev.Type
	}
	terminal := typ == "response.completed" || typ == "response.incomplete" || typ == "response.failed" || typ == "error"
	var edits []openai.Edit
	if e.Delta != nil {
		s.sawDelta = true
		k := partKey{a: e.Part.OutputIndex, b: e.Part.ContentIndex, kind: "resp:" + e.Part.Kind}
		p := s.partFor(k)
		p.template = append(p.template[:0], ev.Data...)
		p.evType = ev.Type
		p.path = e.Delta.Path()
		p.field = fmt.Sprintf("output[%d].content[%d]", e.Part.OutputIndex, e.Part.ContentIndex)
		rel, ok := s.write(p, e.Delta.Text)
		if !ok {
			return true
		}
		if rel != e.Delta.Text {
			edits = append(edits, openai.Edit{Path: e.Delta.Path(), Value: rel})
		}
	}
	// A part's *.done event: release what it holds first.
	if kind := doneKind(typ); kind != "" {
		if p := s.parts[partKey{a: e.Part.OutputIndex, b: e.Part.ContentIndex, kind: "resp:" + kind}]; p != nil && !p.done {
			if !s.release(p) {
				return true
			}
		}
	}
	if terminal && !s.flushAll() {
		return true
	}
	// Complete texts (done events, the final response) are checked whole;
	// redacting them whole gives the same text the deltas spelled out.
	var redacted map[int]string
	if len(e.Texts) > 0 && len(s.rules) > 0 {
		inputs := make([]detect.Input, len(e.Texts))
		for i, t := range e.Texts {
			inputs[i] = detect.Input{Text: t.Text, Role: detect.RoleAssistant, Surface: detect.SurfaceResponse}
		}
		out := policy.CheckSession(s.c.ctx, s.rules, inputs, s.c.sess)
		if !s.sawDelta {
			s.c.record("output", out, func(i int) string { return e.Texts[i].Field }, func(i int) string { return e.Texts[i].Text })
		}
		if out.Failed != nil || out.Blocked != nil {
			what := "blocked content"
			if out.Failed != nil {
				what = "a failed detector"
			}
			s.fail(&openai.APIError{Type: openai.TypePolicy, Code: "content_blocked", Policy: s.c.pol.Name,
				Message: fmt.Sprintf("stream ended by Rampart policy %q because of %s in the output (request id %s)", s.c.pol.Name, what, s.c.id)}, decBlock)
			return true
		}
		for i, r := range out.Redacted {
			if !s.c.restoring() {
				edits = append(edits, openai.Edit{Path: e.Texts[i].Path(), Value: r})
			}
		}
		redacted = out.Redacted
	}
	if s.c.restoring() {
		for i, t := range e.Texts {
			v, red := redacted[i]
			if !red {
				v = t.Text
			}
			if v = s.c.restore(v); red || v != t.Text {
				edits = append(edits, openai.Edit{Path: t.Path(), Value: v})
			}
		}
	}
	data := ev.Data
	if len(edits) > 0 {
		if data, err = openai.Rewrite(ev.Data, edits); err != nil {
			s.fail(&openai.APIError{Type: openai.TypeServer, Code: "internal_error",
				Message: "the gateway could not apply its redactions to the stream"}, decError)
			return true
		}
	}
	data = s.c.restoreEcho(data)
	if terminal {
		s.end(nil)
		s.emit(ev.Type, data)
		s.flushOut()
		return true
	}
	s.emit(ev.Type, data)
	return false
}

// doneKind maps a Responses API *.done event to the kind of part it ends.
func doneKind(typ string) string {
	switch typ {
	case "response.output_text.done":
		return "output_text"
	case "response.refusal.done":
		return "refusal"
	case "response.function_call_arguments.done", "response.custom_tool_call_input.done":
		return "function_call_arguments"
	}
	return ""
}

// usage records usage reported in the stream.
func (s *streamer) usage(u openai.Usage) {
	c := s.c
	c.usageSeen = true
	if u.PromptTokens > 0 {
		c.promptTokens = u.PromptTokens
	}
	c.completionTokens = u.CompletionTokens
	c.estimated = false
}

// countTokens counts completion tokens when the upstream reported none.
func (s *streamer) countTokens() {
	c := s.c
	if c.usageSeen {
		return
	}
	n := 0
	for _, k := range s.order {
		p := s.parts[k]
		if p.rawBytes <= maxCountedText {
			n += c.enc.Count(p.raw.String())
		} else {
			n += p.rawBytes / 4
		}
	}
	c.completionTokens = n
}

// emit writes an event to the client; the stream loop flushes when the
// upstream has nothing more buffered, and end and fail flush at once.
func (s *streamer) emit(typ string, data []byte) {
	if s.werr != nil {
		return
	}
	s.buf = sse.Append(s.buf[:0], typ, data)
	if _, err := s.w.Write(s.buf); err != nil {
		s.werr = err
	}
	s.dirty = true
}

// flushOut sends what emit wrote.
func (s *streamer) flushOut() {
	if s.werr != nil || !s.dirty {
		return
	}
	s.dirty = false
	if err := s.rc.Flush(); err != nil {
		s.werr = err
	}
}

// end writes the audit record and then the final event (data may be nil
// when the caller writes the final event itself).
func (s *streamer) end(data []byte) {
	s.ended = true
	s.settle()
	s.c.auditNow()
	if data != nil {
		s.emit("", data)
	}
	s.flushOut()
}

// fail ends the stream with an error event, after the audit record.
func (s *streamer) fail(e *openai.APIError, decision string) {
	c := s.c
	s.ended = true
	s.settle()
	c.decision = decision
	c.errMsg = e.Message
	e.RequestID = c.id
	c.auditNow()
	body := e.AppendJSON(nil)
	if c.spec.route == openai.Responses {
		// {"type":"error", … , "error": {…}}: the SDKs read either form.
		msg := append([]byte(`{"type":"error","code":`), openai.AppendString(nil, e.Code)...)
		msg = append(msg, `,"message":`...)
		msg = openai.AppendString(msg, e.Message)
		msg = append(msg, `,"param":null,`...)
		msg = append(msg, body[1:]...)
		s.emit("error", msg)
		s.flushOut()
		return
	}
	s.emit("", body)
	s.flushOut()
}

// cut ends a stream that the upstream broke off. What the redactors still
// hold is dropped, not released: a secret cut in half must not leak
// because its end never came.
func (s *streamer) cut(err error) {
	c := s.c
	c.g.metrics.streamCuts.Inc()
	msg := fmt.Sprintf("upstream %q ended the stream before it was complete", c.up.name)
	switch {
	case errors.Is(err, sse.ErrEventTooLarge):
		msg = fmt.Sprintf("upstream %q sent a stream event larger than %d bytes", c.up.name, c.st.cfg.Server.MaxResponseBytes)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
	default:
		if c.ctx.Err() == nil {
			ae := c.up.classify(c.ctx, err)
			msg = ae.Message + " during the stream"
		}
	}
	c.g.metrics.upErrors.WithLabelValues(c.up.name, "stream_cut").Inc()
	s.fail(&openai.APIError{Type: openai.TypeUpstream, Code: "upstream_stream_cut", Message: msg}, decError)
}
