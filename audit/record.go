// Package audit keeps a tamper-evident log: one record per gateway request
// (and per administrative action), hash-chained so that `rampart audit
// verify` finds any edited, deleted, inserted or reordered record.
package audit

import (
	"context"
	"time"
)

// Record is what the gateway logs about one request. It never holds a
// secret: excerpts are redacted, and the prompt is stored only as the
// configuration allows (none, redacted or full).
type Record struct {
	// ID is the request id the client saw in x-request-id.
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"` // "request" or "admin"
	KeyID    string    `json:"key_id,omitempty"`
	Subject  string    `json:"subject,omitempty"` // JWT subject or admin identity
	Group    string    `json:"group,omitempty"`
	ClientIP string    `json:"client_ip,omitempty"`
	Route    string    `json:"route,omitempty"`
	Model    string    `json:"model,omitempty"`
	Upstream string    `json:"upstream,omitempty"`
	Stream   bool      `json:"stream,omitempty"`
	// Decision is "allow", "redact", "flag", "block", "limit" or "error".
	Decision string `json:"decision"`
	// Status is the HTTP status sent to the client.
	Status int `json:"status"`
	// Error is a short, secret-free description when Decision is "error"
	// or "limit".
	Error    string    `json:"error,omitempty"`
	Policy   string    `json:"policy,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	// Token counts: prompt tokens (counted offline when usage is absent)
	// and completion tokens.
	PromptTokens     int  `json:"prompt_tokens,omitempty"`
	CompletionTokens int  `json:"completion_tokens,omitempty"`
	TokensEstimated  bool `json:"tokens_estimated,omitempty"`
	// CostUSD is the price-table cost of the request.
	CostUSD float64 `json:"cost_usd,omitempty"`
	// Latencies in microseconds: total, upstream (first byte to last), and
	// the gateway's own overhead (total minus upstream).
	TotalMicros    int64 `json:"total_us"`
	UpstreamMicros int64 `json:"upstream_us,omitempty"`
	OverheadMicros int64 `json:"overhead_us,omitempty"`
	// Prompt holds the request's text when audit.prompts is "redacted"
	// (secrets and PII replaced) or "full".
	Prompt string `json:"prompt,omitempty"`
	// Action describes an admin action ("key.create", "key.revoke", …).
	Action string `json:"action,omitempty"`
	Target string `json:"target,omitempty"`
}

// Finding is a detector hit as the audit log keeps it.
type Finding struct {
	Detector  string  `json:"detector"`
	RuleID    string  `json:"rule_id"`
	Direction string  `json:"direction"` // "input" or "output"
	Field     string  `json:"field,omitempty"`
	Start     int     `json:"start"`
	End       int     `json:"end"`
	Score     float64 `json:"score"`
	Action    string  `json:"action"`
	Excerpt   string  `json:"excerpt,omitempty"`
}

// Entry is a record as the chain stores it: the record's canonical JSON
// with its position and hashes.
type Entry struct {
	Seq      int64
	PrevHash []byte
	Hash     []byte
	Payload  []byte
}

// Store persists the chain. Implementations live in package store.
type Store interface {
	// AppendAudit appends payloads to the chain atomically and durably: in
	// one transaction it reads the chain's head while holding off other
	// writers, links each payload with Link, inserts the entries, and
	// commits. It returns the entries written.
	AppendAudit(ctx context.Context, payloads [][]byte) ([]Entry, error)
	// ScanAudit calls fn for every entry with Seq >= from, in Seq order.
	ScanAudit(ctx context.Context, from int64, fn func(Entry) error) error
}
