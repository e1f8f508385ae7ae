// Package e2e holds Rampart's end-to-end tests. They build the rampart
// binary once and drive real `rampart serve` processes — over SQLite,
// and over a shared PostgreSQL store and Redis limiter — with the CLI, with
// plain HTTP clients and with the official OpenAI SDK for Node.js
// (e2e/node). Only the LLM provider is a test double
// (internal/fakeupstream).
//
// Run them through ./scripts/test, which starts Redis and PostgreSQL and
// installs the Node packages.
package e2e
