package template

import (
	"encoding/json"
	"fmt"

	"github.com/rampartsec/rampart/finding"
)

// FromTokenizerConfig returns the chat templates of a Hugging Face
// tokenizer_config.json: its "chat_template" is either one template (keyed
// "chat_template") or a list of {"name", "template"} objects (keyed
// "chat_template.<name>"). A file without one gives an empty map.
func FromTokenizerConfig(b []byte) (map[string]string, error) {
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("template: tokenizer config: %w", err)
	}
	out := map[string]string{}
	if len(cfg.ChatTemplate) == 0 || string(cfg.ChatTemplate) == "null" {
		return out, nil
	}
	var one string
	if err := json.Unmarshal(cfg.ChatTemplate, &one); err == nil {
		out["chat_template"] = one
		return out, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(cfg.ChatTemplate, &named); err != nil {
		return nil, fmt.Errorf("template: tokenizer config: chat_template is neither a string nor a list of named templates: %w", err)
	}
	for _, n := range named {
		out["chat_template."+n.Name] = n.Template
	}
	return out, nil
}

// CheckTokenizerConfig checks every chat template of a Hugging Face
// tokenizer_config.json; each finding's Location.Field names the template
// ("chat_template" or "chat_template.<name>").
func CheckTokenizerConfig(b []byte) ([]finding.Finding, error) {
	tmpls, err := FromTokenizerConfig(b)
	if err != nil {
		return nil, err
	}
	var fs []finding.Finding
	for key, t := range tmpls {
		for _, f := range Check(t) {
			f.Location.Field = key
			fs = append(fs, f)
		}
	}
	return fs, nil
}
