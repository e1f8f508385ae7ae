package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store"
)

// allAudited returns every registry record, identity administration
// included, after checking the chain.
func (e *env) allAudited() []audit.Record {
	e.t.Helper()
	e.audited() // verifies the chain
	var recs []audit.Record
	if err := e.st.ScanAudit(context.Background(), 1, func(en audit.Entry) error {
		r, err := audit.Decode(en.Payload)
		if strings.HasPrefix(r.Action, "registry.") {
			recs = append(recs, r)
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// evidence checks every stored action of the model again.
func (e *env) evidence(name string) map[string]registry.Evidence {
	e.t.Helper()
	ctx := context.Background()
	acts, err := e.reg.History(ctx, name, "")
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]registry.Evidence{}
	for _, a := range acts {
		ev, err := e.reg.CheckAction(ctx, a)
		if err != nil {
			e.t.Fatal(err)
		}
		out[a.ID] = ev
	}
	return out
}

// requestState returns the state of the request id.
func (e *env) requestState(name, version, id string) string {
	e.t.Helper()
	acts, err := e.reg.History(context.Background(), name, version)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range acts {
		if a.ID == id {
			return a.State
		}
	}
	e.t.Fatalf("no action %s", id)
	return ""
}

func TestRotateKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		ctx := context.Background()
		e := newEnv(t, open(t))
		oldAlice := e.alice
		e.mustPush(oldAlice, "m", "1", modelDir(t, true, nil))
		req1, err := e.promote(oldAlice, "m", "1")
		if err != nil {
			t.Fatal(err)
		}

		newAlice := ed25519Key(t)
		id, err := e.reg.RotateKey(ctx, "alice", newAlice.PublicKeyPEM(), "admin", "laptop stolen")
		if err != nil {
			t.Fatal(err)
		}
		if id.KeyID != newAlice.KeyID() || id.AddedBy != "admin" || id.Removed() {
			t.Fatalf("RotateKey returned %+v", id)
		}

		// The old key's new statements are refused as retired.
		_, err = e.push(oldAlice, "m", "2", modelDir(t, true, nil))
		wantRefusal(t, err, registry.RefusedKeyRetired)
		for _, s := range []string{"push statement signed with key " + oldAlice.KeyID(), "which was retired at", "(rotated by admin: laptop stolen)", "sign with alice's current key"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("refusal %q does not say %q", err, s)
			}
		}
		// A forged statement naming the retired key is a bad signature,
		// not a retired-key refusal.
		forged := e.sign(e.mallet, registry.Statement{Action: registry.ActionRollback, Model: "m", Version: "1"})
		forged.Statement = []byte(strings.Replace(string(forged.Statement), e.mallet.KeyID(), oldAlice.KeyID(), 1))
		_, err = e.reg.Rollback(ctx, forged)
		wantRefusal(t, err, registry.RefusedBadSignature)

		// The request signed with the old key cannot be approved, and is
		// closed.
		_, err = e.approve(e.bob, "m", "1", req1.ID)
		wantRefusal(t, err, registry.RefusedKeyRetired)
		if !strings.Contains(err.Error(), "request the promotion again") {
			t.Errorf("refusal %q does not say to request again", err)
		}
		if got := e.version("m", "1").Stage; got != registry.StageStaging {
			t.Fatalf("after approving a retired key's request the version is %s", got)
		}
		if got := e.requestState("m", "1", req1.ID); got != registry.RequestExpired {
			t.Errorf("the retired key's request is %q, want expired", got)
		}

		// The new key works: a new request, approved by bob.
		req2, err := e.promote(newAlice, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		if req2.Actor != "alice" || req2.KeyID != newAlice.KeyID() {
			t.Fatalf("request by the new key: actor %s key %s", req2.Actor, req2.KeyID)
		}
		if v, err := e.approve(e.bob, "m", "1", req2.ID); err != nil || v.Stage != registry.StageProduction {
			t.Fatalf("approval of the new key's request: %v, %v", v, err)
		}

		// History still verifies, against the retired key where it signed.
		ev := e.evidence("m")
		if len(ev) != 4 {
			t.Fatalf("%d actions, want push, two requests, approval", len(ev))
		}
		for id, got := range ev {
			if !got.Verified || got.ActorRemoved {
				t.Errorf("action %s: %+v", id, got)
			}
		}
		if !ev[req1.ID].KeyRetired || ev[req2.ID].KeyRetired {
			t.Errorf("KeyRetired: old request %v, new request %v", ev[req1.ID].KeyRetired, ev[req2.ID].KeyRetired)
		}

		// Refused rotations.
		carolKey := ed25519Key(t)
		tests := []struct {
			name, id string
			pem      []byte
			reason   string
			code     string
		}{
			{"back to a retired key", "alice", oldAlice.PublicKeyPEM(), "", registry.RefusedExists},
			{"to its current key", "alice", newAlice.PublicKeyPEM(), "", registry.RefusedExists},
			{"to another identity's key", "alice", e.bob.PublicKeyPEM(), "", registry.RefusedExists},
			{"unknown identity", "carol", carolKey.PublicKeyPEM(), "", registry.RefusedNotFound},
			{"invalid name", "Carol", carolKey.PublicKeyPEM(), "", registry.RefusedInvalidRequest},
			{"not a key", "alice", []byte("nothing"), "", registry.RefusedInvalidRequest},
			{"control characters in the reason", "alice", carolKey.PublicKeyPEM(), "a\x1b[2Jb", registry.RefusedInvalidRequest},
			{"a long reason", "alice", carolKey.PublicKeyPEM(), strings.Repeat("x", registry.MaxReason+1), registry.RefusedInvalidRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.reg.RotateKey(ctx, tc.id, tc.pem, "admin", tc.reason)
				wantRefusal(t, err, tc.code)
			})
		}
		// A retired key cannot be registered for someone else either.
		_, err = e.reg.AddIdentity(ctx, "carol", oldAlice.PublicKeyPEM(), "admin")
		wantRefusal(t, err, registry.RefusedExists)
		keys, err := e.reg.RetiredKeys(ctx)
		if err != nil || len(keys) != 1 || keys[0].KeyID != oldAlice.KeyID() || keys[0].Reason != "laptop stolen" || keys[0].RetiredBy != "admin" {
			t.Fatalf("RetiredKeys = %v, %v", keys, err)
		}

		want := []string{
			"registry.identity.add admin alice allow",
			"registry.identity.add admin bob allow",
			"registry.push alice m@1 allow",
			"registry.promote.request alice m@1 allow",
			"registry.identity.rotate admin alice " + oldAlice.KeyID() + " -> " + newAlice.KeyID() + " allow",
			"registry.push alice m@2 denied",
			"registry.rollback unverified alice m@1 denied",
			"registry.promote.expire registry m@1 " + req1.ID + " allow",
			"registry.approve bob m@1 denied",
			"registry.promote.request alice m@1 allow",
			"registry.approve bob m@1 allow",
			"registry.promote alice m@1 allow",
			"registry.identity.rotate admin alice denied",
			"registry.identity.rotate admin alice denied",
			"registry.identity.rotate admin alice denied",
			"registry.identity.rotate admin carol denied",
			"registry.identity.rotate admin Carol denied",
			"registry.identity.rotate admin alice denied",
			"registry.identity.rotate admin alice denied",
			"registry.identity.rotate admin alice denied",
			"registry.identity.add admin carol denied",
		}
		got := summary(e.allAudited())
		// Identity additions name the key too; compare their first words.
		for i, s := range got {
			if strings.HasPrefix(s, "registry.identity.add ") && strings.HasSuffix(s, " allow") {
				f := strings.Fields(s)
				got[i] = strings.Join([]string{f[0], f[1], f[2], f[len(f)-1]}, " ")
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("audit records (-want +got):\n%s", d)
		}
	})
}

func TestRemoveIdentity(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		ctx := context.Background()
		e := newEnv(t, open(t))
		carol := e.identity("carol", p256Key(t))
		e.mustPush(e.bob, "m", "1", modelDir(t, true, nil))
		e.mustPush(e.bob, "m", "2", modelDir(t, true, map[string]string{"b": "2"}))
		req1, err := e.promote(e.bob, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		req2, err := e.promote(e.bob, "m", "2")
		if err != nil {
			t.Fatal(err)
		}

		id, err := e.reg.RemoveIdentity(ctx, "bob", "admin", "left the company")
		if err != nil {
			t.Fatal(err)
		}
		if !id.Removed() || id.RemovedBy != "admin" || !id.RemovedAt.Equal(e.now.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("RemoveIdentity returned %+v", id)
		}

		// bob's statements are refused.
		_, err = e.push(e.bob, "m", "3", modelDir(t, true, nil))
		wantRefusal(t, err, registry.RefusedIdentityRemoved)
		if !strings.Contains(err.Error(), "push statement by bob, an identity removed at") {
			t.Errorf("refusal %q", err)
		}
		// His pending request cannot be approved...
		_, err = e.approve(e.alice, "m", "1", req1.ID)
		wantRefusal(t, err, registry.RefusedIdentityRemoved)
		if got := e.version("m", "1").Stage; got != registry.StageStaging {
			t.Fatalf("after approving a removed identity's request the version is %s", got)
		}
		// ...and another identity's new request replaces it.
		req3, err := e.promote(e.alice, "m", "2")
		if err != nil {
			t.Fatalf("a new request replacing a removed identity's: %v", err)
		}
		if got := e.requestState("m", "2", req2.ID); got != registry.RequestExpired {
			t.Errorf("the removed identity's request is %q, want expired", got)
		}
		if v, err := e.approve(carol, "m", "2", req3.ID); err != nil || v.Stage != registry.StageProduction {
			t.Fatalf("approval of the replacing request: %v, %v", v, err)
		}

		// Refused administration.
		tests := []struct {
			name string
			do   func() error
			code string
		}{
			{"remove twice", func() error { _, err := e.reg.RemoveIdentity(ctx, "bob", "admin", ""); return err }, registry.RefusedIdentityRemoved},
			{"remove unknown", func() error { _, err := e.reg.RemoveIdentity(ctx, "dave", "admin", ""); return err }, registry.RefusedNotFound},
			{"re-add the name", func() error {
				_, err := e.reg.AddIdentity(ctx, "bob", ed25519Key(t).PublicKeyPEM(), "admin")
				return err
			}, registry.RefusedExists},
			{"rotate a removed identity", func() error {
				_, err := e.reg.RotateKey(ctx, "bob", ed25519Key(t).PublicKeyPEM(), "admin", "")
				return err
			}, registry.RefusedIdentityRemoved},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) { wantRefusal(t, tc.do(), tc.code) })
		}

		// bob's actions still verify, marked as by a removed identity.
		for id, ev := range e.evidence("m") {
			if !ev.Verified || ev.KeyRetired {
				t.Errorf("action %s: %+v", id, ev)
			}
		}
		ids, err := e.reg.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 3 || ids[1].Name != "bob" || !ids[1].Removed() || ids[0].Removed() || ids[2].Removed() {
			t.Fatalf("Identities = %v", ids)
		}

		var got []string
		for _, r := range e.allAudited() {
			if strings.HasPrefix(r.Action, "registry.identity.add") {
				continue
			}
			got = append(got, strings.Join(strings.Fields(r.Action+" "+r.Subject+" "+r.Target+" "+r.Decision), " "))
		}
		want := []string{
			"registry.push bob m@1 allow",
			"registry.push bob m@2 allow",
			"registry.promote.request bob m@1 allow",
			"registry.promote.request bob m@2 allow",
			"registry.identity.remove admin bob " + e.bob.KeyID() + " (left the company) allow",
			"registry.push bob m@3 denied",
			"registry.promote.expire registry m@1 " + req1.ID + " allow",
			"registry.approve alice m@1 denied",
			"registry.promote.expire registry m@2 " + req2.ID + " allow",
			"registry.promote.request alice m@2 allow",
			"registry.approve carol m@2 allow",
			"registry.promote alice m@2 allow",
			"registry.identity.remove admin bob denied",
			"registry.identity.remove admin dave denied",
			"registry.identity.rotate admin bob denied",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("audit records (-want +got):\n%s", d)
		}
	})
}
