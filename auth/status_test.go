package auth

import (
	"testing"
	"time"
)

func TestKeyStatus(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		k       Key
		want    string
		working bool
	}{
		{"fresh", Key{}, StatusActive, true},
		{"expires later", Key{ExpiresAt: now.Add(time.Hour)}, StatusActive, true},
		{"expired", Key{ExpiresAt: now}, StatusExpired, false},
		{"revoked", Key{RevokedAt: now.Add(-time.Second)}, StatusRevoked, false},
		{"revoked and expired", Key{RevokedAt: now, ExpiresAt: now}, StatusRevoked, false},
		{"revocation scheduled", Key{RevokedAt: now.Add(time.Hour)}, StatusRevoking, true},
	}
	for _, tt := range tests {
		if got := tt.k.Status(now); got != tt.want {
			t.Errorf("%s: Status = %q, want %q", tt.name, got, tt.want)
		}
		if got := tt.k.Active(now); got != tt.working {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.working)
		}
	}
}
