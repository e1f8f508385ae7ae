package finding

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Fingerprint returns a stable identity for a finding, for baselines and for
// SARIF partialFingerprints: the first 32 hex digits (128 bits) of a SHA-256
// over the rule id, the location and the matched material. Only the hash
// leaves this function, so the secret itself never appears in a report.
//
// The artifact part of the location (path, dataset row, request id, field,
// commit) always counts. When secretMaterial is non-empty it stands for the
// position, so the fingerprint survives edits that move the secret within the
// file (line, column, offset and span are left out, and two copies of one
// secret in one artifact share a fingerprint). When it is empty, the position
// counts instead.
//
// The hash is unkeyed: for low-entropy material (a phone number, a four-digit
// PIN) anyone who can read the fingerprint and guess the location can confirm
// guesses offline. Pass such material through a keyed hash first, or pass "".
func Fingerprint(ruleID string, loc Location, secretMaterial string) string {
	var b [256]byte
	buf := appendField(b[:0], "rampart.fingerprint.v1")
	buf = appendField(buf, ruleID)
	buf = appendArtifact(buf, &loc)
	if secretMaterial != "" {
		buf = appendField(buf, "material")
		buf = appendField(buf, secretMaterial)
	} else {
		buf = appendField(buf, "position")
		buf = appendPosition(buf, &loc)
	}
	return sumHex(buf)
}

// derivedFingerprint is the fingerprint a writer reports for a finding that
// has none: rule id, the whole location and the (already redacted) excerpt.
func derivedFingerprint(f *Finding) string {
	var b [256]byte
	buf := appendField(b[:0], "rampart.fingerprint.derived.v1")
	buf = appendField(buf, f.RuleID)
	buf = appendArtifact(buf, &f.Location)
	buf = appendPosition(buf, &f.Location)
	buf = appendField(buf, f.Excerpt)
	return sumHex(buf)
}

// fingerprintOf is the fingerprint every format reports for f.
func fingerprintOf(f *Finding) string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	return derivedFingerprint(f)
}

func appendArtifact(buf []byte, l *Location) []byte {
	buf = appendField(buf, l.Path)
	buf = binary.AppendVarint(buf, l.Row)
	buf = appendField(buf, l.RequestID)
	buf = appendField(buf, l.Field)
	return appendField(buf, l.Commit)
}

func appendPosition(buf []byte, l *Location) []byte {
	buf = binary.AppendVarint(buf, int64(l.Line))
	buf = binary.AppendVarint(buf, int64(l.Column))
	buf = binary.AppendVarint(buf, l.Offset)
	if l.Span == nil {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	buf = binary.AppendVarint(buf, int64(l.Span.Start))
	return binary.AppendVarint(buf, int64(l.Span.End))
}

// appendField appends s with a length prefix, so that no two different
// sequences of fields produce the same bytes.
func appendField(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func sumHex(buf []byte) string {
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}
