// Package builtin registers every built-in detector family with
// detect.Default. Programs that build detectors by name (the gateway, the
// check and eval commands) import it for its side effect:
//
//	import _ "github.com/rampartsec/rampart/detect/builtin"
package builtin

import (
	_ "github.com/rampartsec/rampart/detect/canary"    // system-prompt leaks
	_ "github.com/rampartsec/rampart/detect/exfil"     // data-carrying links and images
	_ "github.com/rampartsec/rampart/detect/injection" // prompt injection and jailbreaks
	_ "github.com/rampartsec/rampart/detect/length"    // prompt and message size
	_ "github.com/rampartsec/rampart/detect/pii"       // personal data
	_ "github.com/rampartsec/rampart/detect/secrets"   // credentials
	_ "github.com/rampartsec/rampart/detect/toxicity"  // insults, threats, hate, sexual content, self-harm
	_ "github.com/rampartsec/rampart/detect/unicode"   // invisible characters and homoglyphs
)

// Names lists the detector names of the command-line contract, the types a
// user names with `rampart check --detector` and `rampart eval --detector`.
var Names = []string{"injection", "pii", "secrets", "exfil", "canary", "unicode", "toxicity"}
