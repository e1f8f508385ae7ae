// Package testenv gives integration tests the addresses of the real servers
// they need (Redis, PostgreSQL), which the repository's test command starts.
//
// When a server's variable is unset a test skips — unless
// RAMPART_TEST_REQUIRE_SERVICES=1, which the test command and CI set, in
// which case it fails: integration tests never skip silently in CI.
package testenv

import (
	"os"
	"testing"
)

// Environment variables read by this package.
const (
	EnvRedisAddr       = "RAMPART_TEST_REDIS_ADDR"       // host:port of a Redis server
	EnvPostgresDSN     = "RAMPART_TEST_POSTGRES_DSN"     // DSN of a PostgreSQL database the tests may use
	EnvRequireServices = "RAMPART_TEST_REQUIRE_SERVICES" // "1": a missing server fails the test
	EnvRequireNode     = "RAMPART_TEST_REQUIRE_NODE"     // "1": missing Node.js packages fail the test
)

// RedisAddr returns the test Redis address, or skips (or fails) the test.
func RedisAddr(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvRedisAddr, "Redis")
}

// PostgresDSN returns the test PostgreSQL DSN, or skips (or fails) the test.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvPostgresDSN, "PostgreSQL")
}

// Required reports whether missing services must fail tests.
func Required() bool { return os.Getenv(EnvRequireServices) == "1" }

// Missing skips the test, or fails it when services are required. Tests
// that need another external piece (Node.js packages, a browser) call it.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is not available and %s=1: run the tests through ./scripts/test", what, EnvRequireServices)
	}
	t.Skipf("%s is not available; run ./scripts/test to start it", what)
}

func lookup(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		Missing(t, what+" ("+env+")")
	}
	return v
}
