package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// HashSize is the length of every hash in the chain (SHA-256).
const HashSize = sha256.Size

// chainTag separates the chain's hashes from every other use of SHA-256
// over similar bytes. The version lets a future format coexist.
const chainTag = "rampart/audit-chain/v1\x00"

// Genesis returns the previous hash of the first entry: HashSize zero
// bytes. Each call returns a new slice.
func Genesis() []byte { return make([]byte, HashSize) }

// Link places payload at position seq after the entry whose hash is prev
// (Genesis for seq 1) and returns the resulting entry. The hash is
//
//	SHA-256(tag || seq as 8 bytes big-endian || len(prev) as 8 bytes || prev || payload)
//
// so it commits to the position, the whole history before it and the
// payload. The entry's PrevHash and Payload alias the arguments.
func Link(prev []byte, seq int64, payload []byte) Entry {
	return Entry{Seq: seq, PrevHash: prev, Hash: linkHash(prev, seq, payload), Payload: payload}
}

func linkHash(prev []byte, seq int64, payload []byte) []byte {
	var hdr [len(chainTag) + 16]byte
	copy(hdr[:], chainTag)
	binary.BigEndian.PutUint64(hdr[len(chainTag):], uint64(seq))
	binary.BigEndian.PutUint64(hdr[len(chainTag)+8:], uint64(len(prev)))
	h := sha256.New()
	h.Write(hdr[:])
	h.Write(prev)
	h.Write(payload)
	return h.Sum(make([]byte, 0, HashSize))
}

// linksAt reports whether e's stored hash is the one e's prev hash and
// payload produce at position seq.
func linksAt(e *Entry, seq int64) bool {
	return bytes.Equal(linkHash(e.PrevHash, seq, e.Payload), e.Hash)
}

// Encode returns the canonical payload of rec: its JSON encoding (fields in
// declaration order, Time in UTC, HTML characters left unescaped) without a
// trailing newline. The chain hashes these exact bytes.
func Encode(rec Record) ([]byte, error) {
	rec.Time = rec.Time.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&rec); err != nil {
		return nil, fmt.Errorf("encode audit record %q: %w", rec.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Decode parses a payload written by Encode. Unknown fields are ignored so
// that older binaries can read records written by newer ones.
func Decode(payload []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(payload, &rec); err != nil {
		return Record{}, fmt.Errorf("decode audit record: %w", err)
	}
	return rec, nil
}

// Head identifies a position in the chain: a sequence number and the hash
// of the entry there. Keeping a recent Head outside the database (a ticket,
// a log line shipped elsewhere) lets Verify detect a truncated or
// rewritten chain, which hashes alone cannot.
type Head struct {
	Seq  int64
	Hash []byte
}

// String formats h as "SEQ:HEXHASH", the form ParseHead reads.
func (h Head) String() string {
	return strconv.FormatInt(h.Seq, 10) + ":" + hex.EncodeToString(h.Hash)
}

// ParseHead parses "SEQ:HEXHASH" (as printed by Head.String and by
// Report.String).
func ParseHead(s string) (Head, error) {
	seqText, hashText, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Head{}, errors.New("parse audit head: want SEQ:HEXHASH")
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 0 {
		return Head{}, fmt.Errorf("parse audit head: sequence number %q is not a non-negative integer", seqText)
	}
	hash, err := hex.DecodeString(hashText)
	if err != nil || len(hash) != HashSize {
		return Head{}, fmt.Errorf("parse audit head: hash must be %d hex digits", 2*HashSize)
	}
	return Head{Seq: seq, Hash: hash}, nil
}
