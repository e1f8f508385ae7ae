// Package auth authenticates gateway clients: Rampart API keys (shown once,
// stored as a hash, looked up by prefix, compared in constant time) and,
// optionally, JWT bearer tokens verified against a JWKS.
package auth

import (
	"context"
	"errors"
	"time"

	"github.com/rampartsec/rampart/config"
)

// Key is a stored API key. The secret itself is never stored: only its
// SHA-256 digest.
type Key struct {
	// ID is the key's public identifier, e.g. "key_01J…"; it appears in
	// audit records and metrics.
	ID string `json:"id"`
	// Name is a human label.
	Name string `json:"name"`
	// Prefix is the public lookup part of the key ("rk_" + 12 characters).
	Prefix string `json:"prefix"`
	// Hash is SHA-256 of the whole key.
	Hash []byte `json:"-"`
	// Group is the key group policies and group limits apply to.
	Group string `json:"group,omitempty"`
	// Models and Routes the key may use; empty means all.
	Models []string `json:"models,omitempty"`
	Routes []string `json:"routes,omitempty"`
	// Limits override the group's and the defaults' (zero fields inherit).
	Limits config.LimitSet `json:"limits,omitzero"`
	// CreatedAt, ExpiresAt (zero: never) and RevokedAt (zero: not revoked).
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// RotatedFrom names the key this one replaced.
	RotatedFrom string `json:"rotated_from,omitempty"`
}

// Active reports whether the key may be used at time now.
func (k *Key) Active(now time.Time) bool {
	st := k.Status(now)
	return st == StatusActive || st == StatusRevoking
}

// Key statuses, as Status reports them.
const (
	StatusActive   = "active"
	StatusRevoked  = "revoked"
	StatusExpired  = "expired"
	StatusRevoking = "revoking" // a revocation is scheduled (rotation grace)
)

// Status says whether the key works at time now: active, revoked, expired,
// or revoking (still working, with its revocation scheduled).
func (k *Key) Status(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt):
		return StatusRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return StatusExpired
	case !k.RevokedAt.IsZero():
		return StatusRevoking
	}
	return StatusActive
}

// ErrNotFound is returned by a KeyStore for an unknown key.
var ErrNotFound = errors.New("key not found")

// KeyStore persists keys. Implementations live in package store.
type KeyStore interface {
	// CreateKey inserts a key; the prefix must be unique.
	CreateKey(ctx context.Context, k *Key) error
	// KeyByPrefix returns the key with the given prefix, or ErrNotFound.
	KeyByPrefix(ctx context.Context, prefix string) (*Key, error)
	// KeyByID returns the key with the given id, or ErrNotFound.
	KeyByID(ctx context.Context, id string) (*Key, error)
	// ListKeys returns every key, newest first.
	ListKeys(ctx context.Context) ([]*Key, error)
	// RevokeKey sets RevokedAt (a time in the future schedules it); it is
	// ErrNotFound for an unknown id.
	RevokeKey(ctx context.Context, id string, at time.Time) error
}
