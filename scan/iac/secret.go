package iac

import (
	"context"
	"strings"
	"sync"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/secrets"
	"github.com/rampartsec/rampart/redact"
)

// secretDetector is the repository's credential detector, built once.
var secretDetector = sync.OnceValues(func() (*secrets.Detector, error) { return secrets.New(nil) })

// secretWords are key segments that name a credential.
var secretWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "secret": true, "token": true,
	"apikey": true, "credential": true, "credentials": true, "privatekey": true, "secretkey": true,
	"accesskey": true, "passphrase": true,
}

// secretPairs are two consecutive key segments that name a credential.
var secretPairs = map[string]bool{
	"api key": true, "access key": true, "secret key": true, "private key": true, "auth key": true,
	"client secret": true, "signing key": true, "master key": true, "encryption key": true,
}

// notSecretTails are last key segments that make the key name a reference
// to a secret, not the secret itself.
var notSecretTails = map[string]bool{
	"id": true, "arn": true, "name": true, "names": true, "file": true, "path": true, "dir": true,
	"url": true, "uri": true, "endpoint": true, "ref": true, "version": true, "ttl": true, "length": true,
	"type": true, "policy": true, "count": true, "enabled": true, "rotation": true, "expiry": true,
	"expiration": true, "kms": true, "header": true, "env": true, "mount": true, "location": true,
}

// secretKeyName reports whether a key (an environment variable, an
// attribute, a variable name) names a credential.
func secretKeyName(key string) bool {
	segs := strings.FieldsFunc(strings.ToLower(key), func(r rune) bool {
		return r == '_' || r == '-' || r == '.' || r == ' '
	})
	if len(segs) == 0 || notSecretTails[segs[len(segs)-1]] {
		return false
	}
	for i, s := range segs {
		if secretWords[s] {
			return true
		}
		if i > 0 && secretPairs[segs[i-1]+" "+s] {
			return true
		}
	}
	return false
}

// placeholderWords mark values that stand in for a secret.
var placeholderWords = []string{"changeme-in", "your_", "your-", "<", "example", "placeholder", "replace", "xxxx", "dummy", "redacted", "***"}

// secretValue reports whether value, assigned to key, is a literal secret:
// either the repository's secret detector recognises it, or the key names a
// credential and the value is a literal that is not a reference, a
// placeholder, a number or a boolean.
func secretValue(key, value string) bool {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 64<<10 {
		return false
	}
	if strings.HasPrefix(v, "$") || strings.Contains(v, "${") || strings.Contains(v, "{{") ||
		strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "vault:") || strings.HasPrefix(v, "arn:") ||
		strings.HasPrefix(v, "projects/") || strings.HasPrefix(v, "/run/secrets/") {
		return false
	}
	lv := strings.ToLower(v)
	for _, p := range placeholderWords {
		if strings.Contains(lv, p) {
			return false
		}
	}
	if detectorHit(key, v) {
		return true
	}
	if !secretKeyName(key) || len(v) < 4 || lv == "true" || lv == "false" || lv == "null" || allDigits(v) {
		return false
	}
	return true
}

func detectorHit(key, v string) bool {
	d, err := secretDetector()
	if err != nil {
		return false
	}
	text := key + "=\"" + v + "\""
	hits, err := d.Detect(context.Background(), detect.Input{Text: text, Surface: detect.SurfaceFile})
	if err != nil {
		return false
	}
	start := len(key) + 2
	for _, h := range hits {
		if h.End > start && h.Start < start+len(v) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// maskedExcerpt renders "KEY=[(N bytes)]": the key and the value's length,
// never the value.
func maskedExcerpt(key, value string) string {
	key = clip(key, 80)
	text := key + "=" + value
	return redact.ExcerptNoHint(text, len(key)+1, len(text))
}

// clip shortens s to at most n bytes for an excerpt, on a rune boundary.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
