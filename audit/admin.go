package audit

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"
)

// Kinds of record.
const (
	KindRequest = "request"
	KindAdmin   = "admin"
)

// AdminRecord returns the record of an administrative action (action such
// as "key.revoke", on target, by actor) with a fresh random id.
func AdminRecord(action, target, actor string) Record {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return Record{
		ID: "adm_" + hex.EncodeToString(b[:]), Time: time.Now().UTC(), Kind: KindAdmin,
		Action: action, Target: target, Subject: actor, Decision: "allow", Status: http.StatusOK,
	}
}
