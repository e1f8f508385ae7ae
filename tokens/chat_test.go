package tokens

import "testing"

// cookbookMessages are the example messages of the OpenAI Cookbook's "How
// to count tokens with tiktoken", whose num_tokens_from_messages gives 129
// prompt tokens for gpt-3.5-turbo and gpt-4 and 124 for gpt-4o and
// gpt-4o-mini, matching the API's usage.prompt_tokens.
var cookbookMessages = []Message{
	{Role: "system", Content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
	{Role: "system", Name: "example_user", Content: "New synergies will help drive top-line growth."},
	{Role: "system", Name: "example_assistant", Content: "Things working well together will increase revenue."},
	{Role: "system", Name: "example_user", Content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
	{Role: "system", Name: "example_assistant", Content: "Let's talk later when we're less busy about how to do better."},
	{Role: "user", Content: "This late pivot means we don't have time to boil the ocean for the client deliverable."},
}

func TestCountChat(t *testing.T) {
	tests := []struct {
		name     string
		enc      *Encoding
		messages []Message
		want     int
	}{
		{"cookbook cl100k", Cl100kBase(), cookbookMessages, 129},
		{"cookbook o200k", O200kBase(), cookbookMessages, 124},
		{"nil encoding is o200k", nil, cookbookMessages, 124},
		{"no messages", O200kBase(), nil, ReplyPrimingTokens},
		// 3 + "user" (1) + "hi" (1), + 3 priming.
		{"one message", O200kBase(), []Message{{Role: "user", Content: "hi"}}, 8},
		// The same with a name: + 1 + "bob" (1).
		{"named", O200kBase(), []Message{{Role: "user", Name: "bob", Content: "hi"}}, 10},
		{"empty content", O200kBase(), []Message{{Role: "assistant"}}, 3 + 1 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CountChat(tt.enc, tt.messages); got != tt.want {
				t.Errorf("CountChat = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestCountChatMatchesReference recomputes CountChat from the reference's
// counts.
func TestCountChatMatchesReference(t *testing.T) {
	for _, r := range refs {
		want := ReplyPrimingTokens
		for _, m := range cookbookMessages {
			want += TokensPerMessage + r.count(t, m.Role) + r.count(t, m.Content)
			if m.Name != "" {
				want += TokensPerName + r.count(t, m.Name)
			}
		}
		if got := CountChat(r.enc, cookbookMessages); got != want {
			t.Errorf("%s CountChat = %d, from the reference %d", r.enc.Name(), got, want)
		}
	}
}

func TestForModel(t *testing.T) {
	tests := []struct {
		model string
		want  *Encoding
	}{
		{"gpt-4o", O200kBase()},
		{"gpt-4o-mini", O200kBase()},
		{"gpt-4o-2024-08-06", O200kBase()},
		{"chatgpt-4o-latest", O200kBase()},
		{"gpt-4.1", O200kBase()},
		{"gpt-4.1-nano", O200kBase()},
		{"gpt-4.5-preview", O200kBase()},
		{"gpt-5", O200kBase()},
		{"gpt-5-mini", O200kBase()},
		{"o1", O200kBase()},
		{"o1-preview", O200kBase()},
		{"o3-mini", O200kBase()},
		{"o4-mini-2025-04-16", O200kBase()},
		{"GPT-4o", O200kBase()},
		{" gpt-4o ", O200kBase()},
		{"openai/gpt-4o", O200kBase()},
		{"ft:gpt-4o-mini-2024-07-18:acme::abc123", O200kBase()},
		{"gpt-4", Cl100kBase()},
		{"gpt-4-0613", Cl100kBase()},
		{"gpt-4-turbo", Cl100kBase()},
		{"gpt-4-32k", Cl100kBase()},
		{"gpt-3.5-turbo", Cl100kBase()},
		{"gpt-3.5-turbo-16k", Cl100kBase()},
		{"gpt-35-turbo", Cl100kBase()},
		{"text-embedding-3-small", Cl100kBase()},
		{"text-embedding-3-large", Cl100kBase()},
		{"text-embedding-ada-002", Cl100kBase()},
		{"davinci-002", Cl100kBase()},
		{"ft:gpt-3.5-turbo-0125:acme::xyz", Cl100kBase()},
		{"azure/gpt-4", Cl100kBase()},
		// Unknown models get o200k_base.
		{"", O200kBase()},
		{"claude-3-5-sonnet", O200kBase()},
		{"llama-3.1-70b", O200kBase()},
		{"omni", O200kBase()},
		{"text-davinci-003", O200kBase()},
	}
	for _, tt := range tests {
		if got := ForModel(tt.model); got != tt.want {
			t.Errorf("ForModel(%q) = %s, want %s", tt.model, got.Name(), tt.want.Name())
		}
	}
}

func TestForModelAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { ForModel("gpt-4o-mini") }); n != 0 {
		t.Errorf("ForModel allocates %.1f times", n)
	}
}

func TestCountMessageAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { O200kBase().CountMessage("user", "bob", "Hello there, how are you?") }); n != 0 {
		t.Errorf("CountMessage allocates %.1f times", n)
	}
}
