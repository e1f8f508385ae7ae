package tokens

// Message is one chat message as CountChat counts it.
type Message struct {
	Role    string // "system", "developer", "user", "assistant", "tool", ...
	Name    string // optional participant name; empty if absent
	Content string // the message's text
}

// The per-message overhead of OpenAI's chat format, as in the OpenAI
// Cookbook's num_tokens_from_messages for current models.
const (
	// TokensPerMessage is added for every message (its start, role and end
	// markers).
	TokensPerMessage = 3
	// TokensPerName is added for a message that has a name.
	TokensPerName = 1
	// ReplyPrimingTokens is added once per request: every reply is primed
	// with <|start|>assistant<|message|>.
	ReplyPrimingTokens = 3
)

// CountChat returns the prompt tokens of a chat request: the tokens of each
// message's role, name and content plus TokensPerMessage per message,
// TokensPerName per named message and ReplyPrimingTokens. With enc nil it
// uses O200kBase. It does not count tools, images or response formats, so
// for requests with those it is a lower bound.
func CountChat(enc *Encoding, messages []Message) int {
	if enc == nil {
		enc = o200kBase
	}
	n := ReplyPrimingTokens
	for _, m := range messages {
		n += enc.CountMessage(m.Role, m.Name, m.Content)
	}
	return n
}

// CountMessage returns one message's share of CountChat: TokensPerMessage,
// the tokens of role, name and content, and TokensPerName if name is not
// empty. A caller with its own message type can add these up, plus
// ReplyPrimingTokens, without building a []Message.
func (e *Encoding) CountMessage(role, name, content string) int {
	n := TokensPerMessage + e.Count(role) + e.Count(content)
	if name != "" {
		n += TokensPerName + e.Count(name)
	}
	return n
}
