package registry_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/store"
)

// TestAcceptance is issue 4's acceptance: promotion refused without
// approval, refused when approved by the same identity, refused with a
// critical finding; rollback works; all in the audit log.
func TestAcceptance(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))

		// v1: pushed by alice, requested by alice.
		v1 := e.mustPush(e.alice, "fraud", "1", modelDir(t, true, nil))
		if v1.Stage != registry.StageStaging || v1.Scan.Source != "registry" || !v1.Signature.Verified {
			t.Fatalf("pushed version: stage %s, scan %+v, signature %+v", v1.Stage, v1.Scan, v1.Signature)
		}
		req, err := e.promote(e.alice, "fraud", "1")
		if err != nil {
			t.Fatal(err)
		}
		// Promotion refused without approval.
		_, err = e.promote(e.alice, "fraud", "1")
		wantRefusal(t, err, registry.RefusedNoApproval)
		if got := e.version("fraud", "1").Stage; got != registry.StageStaging {
			t.Fatalf("without approval the version is %s", got)
		}
		// Refused when approved by the same identity.
		_, err = e.approve(e.alice, "fraud", "1", req.ID)
		wantRefusal(t, err, registry.RefusedSameIdentity)
		if want := "refused: approval by the requesting identity alice"; err == nil || err.Error()[:len(want)] != want {
			t.Fatalf("err = %v, want it to start %q", err, want)
		}
		// Approved by bob: promoted.
		got, err := e.approve(e.bob, "fraud", "1", req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stage != registry.StageProduction {
			t.Fatalf("after approval the version is %s", got.Stage)
		}

		// v2: a critical finding keeps it out of production.
		e.mustPush(e.alice, "fraud", "2", modelDir(t, true, map[string]string{"extra/evil.pkl": "\x80\x02cposix\nsystem\n"}))
		_, err = e.promote(e.alice, "fraud", "2")
		wantRefusal(t, err, registry.RefusedScanBlocking)

		// v3 replaces v1; rollback restores v1.
		e.mustPush(e.bob, "fraud", "3", modelDir(t, true, map[string]string{"notes.txt": "low finding only"}))
		req3, err := e.promote(e.bob, "fraud", "3")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.approve(e.alice, "fraud", "3", req3.ID); err != nil {
			t.Fatal(err)
		}
		if st := e.version("fraud", "1").Stage; st != registry.StageRetired {
			t.Fatalf("the replaced version is %s, want retired", st)
		}
		res, err := e.rollback(e.alice, "fraud", "3")
		if err != nil {
			t.Fatal(err)
		}
		if res.Retired.Version != "3" || res.Retired.Stage != registry.StageRetired || res.Restored.Version != "1" || res.Restored.Stage != registry.StageProduction {
			t.Fatalf("rollback retired %s (%s) and restored %s (%s)", res.Retired.Version, res.Retired.Stage, res.Restored.Version, res.Restored.Stage)
		}
		prod, err := e.st.ProductionModels(context.Background())
		if err != nil || prod["fraud"] != "1" {
			t.Fatalf("ProductionModels = %v, %v; want fraud 1", prod, err)
		}
		// Nothing before v1: a second rollback is refused.
		_, err = e.rollback(e.alice, "fraud", "1")
		wantRefusal(t, err, registry.RefusedNoPrevious)

		want := []string{
			"registry.push alice fraud@1 allow",
			"registry.promote.request alice fraud@1 allow",
			"registry.promote.request alice fraud@1 denied",
			"registry.approve alice fraud@1 denied",
			"registry.approve bob fraud@1 allow",
			"registry.promote alice fraud@1 allow",
			"registry.push alice fraud@2 allow",
			"registry.promote.request alice fraud@2 denied",
			"registry.push bob fraud@3 allow",
			"registry.promote.request bob fraud@3 allow",
			"registry.approve alice fraud@3 allow",
			"registry.promote bob fraud@3 allow",
			"registry.retire alice fraud@1 allow",
			"registry.rollback alice fraud@3 allow",
			"registry.restore alice fraud@1 allow",
			"registry.rollback alice fraud@1 denied",
		}
		recs := e.audited()
		if d := cmp.Diff(want, summary(recs)); d != "" {
			t.Fatalf("audit records (-want +got):\n%s", d)
		}
		for _, r := range recs {
			if r.Decision == "denied" && (r.Status != 403 || r.Error == "") {
				t.Errorf("refusal record %s has status %d and error %q", r.Action, r.Status, r.Error)
			}
		}
		if recs[3].Error != "refused: approval by the requesting identity alice: promotion of fraud@1 needs an approval by another identity" {
			t.Errorf("the same-identity refusal is audited as %q", recs[3].Error)
		}
		// The record of each accepted action has the action's id, and the
		// stored statements still verify against their identities.
		acts, err := e.reg.History(context.Background(), "fraud", "")
		if err != nil {
			t.Fatal(err)
		}
		ids, err := e.reg.Identities(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*registry.Identity{}
		for _, id := range ids {
			byName[id.Name] = id
		}
		recIDs := map[string]bool{}
		for _, r := range recs {
			recIDs[r.ID] = true
		}
		for _, a := range acts {
			if err := registry.VerifyAction(a, byName[a.Actor]); err != nil {
				t.Error(err)
			}
			if !recIDs[a.ID] {
				t.Errorf("action %s (%s) has no audit record with its id", a.ID, a.Kind)
			}
		}
		if len(acts) != 8 {
			t.Errorf("%d actions stored, want 8 (3 pushes, 2 requests, 2 approvals, 1 rollback; none refused)", len(acts))
		}
	})
}

func TestAuthentication(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		dir := modelDir(t, true, nil)
		pushSt := registry.Statement{Action: registry.ActionPush, Model: "m", Version: "1", Digest: e.digest(dir)}

		// A key registered to no identity.
		_, err := e.reg.Push(ctx, e.sign(e.mallet, pushSt), registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedUnknownKey)

		// A signature by another key than the statement names.
		good := e.sign(e.alice, pushSt)
		forged := e.sign(e.mallet, pushSt)
		_, err = e.reg.Push(ctx, registry.SignedStatement{Statement: good.Statement, Signature: forged.Signature}, registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedBadSignature)

		// An edited statement (still canonical) no longer verifies.
		edited := slices.Clone(good.Statement)
		i := bytesIndex(edited, `"version":"1"`)
		edited[i+len(`"version":"`)] = '9'
		_, err = e.reg.Push(ctx, registry.SignedStatement{Statement: edited, Signature: good.Signature}, registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedBadSignature)

		// Non-canonical JSON is refused before anything else.
		spaced := append([]byte(" "), good.Statement...)
		_, err = e.reg.Push(ctx, registry.SignedStatement{Statement: spaced, Signature: good.Signature}, registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedMalformed)

		// A statement for another action.
		_, err = e.reg.RequestPromotion(ctx, good)
		wantRefusal(t, err, registry.RefusedWrongAction)

		// A stale statement.
		old := e.now
		e.now = old.Add(-time.Hour)
		stale := e.sign(e.alice, pushSt)
		e.now = old
		_, err = e.reg.Push(ctx, stale, registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedStale)

		// The good statement works once; its replay is refused.
		if _, err := e.reg.Push(ctx, good, registry.PushInput{Dir: dir}); err != nil {
			t.Fatal(err)
		}
		_, err = e.reg.Push(ctx, good, registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedExists)

		want := []string{
			"registry.push key " + e.mallet.KeyID() + " m@1 denied",
			"registry.push unverified alice m@1 denied",
			"registry.push unverified alice m@9 denied",
			"registry.push unauthenticated  denied",
			"registry.promote.request unauthenticated m@1 denied",
			"registry.push alice m@1 denied",
			"registry.push alice m@1 allow",
			"registry.push alice m@1 denied",
		}
		if d := cmp.Diff(want, summary(e.audited())); d != "" {
			t.Fatalf("audit records (-want +got):\n%s", d)
		}
	})
}

func bytesIndex(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	panic("not found: " + s)
}

func TestApprovalBinding(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		e.mustPush(e.alice, "m", "1", modelDir(t, true, nil))
		v2 := e.mustPush(e.alice, "m", "2", modelDir(t, true, nil))
		req1, err := e.promote(e.alice, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		// Approving without a request, or with another version's request.
		_, err = e.approve(e.bob, "m", "2", req1.ID)
		wantRefusal(t, err, registry.RefusedNoRequest)
		// An approval must name the version's digest.
		other := registry.Statement{Action: registry.ActionApprove, Model: "m", Version: "1", Digest: v2.Digest, Request: req1.ID}
		_, err = e.reg.Approve(ctx, e.sign(e.bob, other))
		wantRefusal(t, err, registry.RefusedDigest)
		// A push, a request or an approval of a version that does not exist.
		_, err = e.reg.RequestPromotion(ctx, e.sign(e.alice, registry.Statement{Action: registry.ActionPromote, Model: "m", Version: "7", Digest: v2.Digest}))
		wantRefusal(t, err, registry.RefusedNotFound)
		// The right approval works once; the request is then closed.
		if _, err := e.approve(e.bob, "m", "1", req1.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.approve(e.bob, "m", "1", req1.ID)
		if c := registry.RefusalCode(err); c != registry.RefusedNoRequest && c != registry.RefusedStage {
			t.Fatalf("a second approval: %v", err)
		}
		// A version in production cannot be requested again.
		_, err = e.promote(e.bob, "m", "1")
		wantRefusal(t, err, registry.RefusedStage)
	})
}

func TestGates(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()

		// Unsigned: pushed, never promoted.
		v := e.mustPush(e.alice, "m", "unsigned", modelDir(t, false, nil))
		if v.Signature.Verified || v.Signature.Error == "" {
			t.Fatalf("unsigned folder: signature %+v", v.Signature)
		}
		_, err := e.promote(e.alice, "m", "unsigned")
		wantRefusal(t, err, registry.RefusedUnsigned)

		// A registry without a scanner records no scan: not promotable.
		bare := registry.New(e.st, registry.Options{Verifier: verifySig, Clock: func() time.Time { return e.now }})
		dir := modelDir(t, true, nil)
		ss := e.sign(e.alice, registry.Statement{Action: registry.ActionPush, Model: "m", Version: "unscanned", Digest: e.digest(dir)})
		if _, err := bare.Push(ctx, ss, registry.PushInput{Dir: dir}); err != nil {
			t.Fatal(err)
		}
		_, err = e.promote(e.alice, "m", "unscanned")
		wantRefusal(t, err, registry.RefusedScanMissing)

		// A report the pusher supplies is used instead of a scan, and must
		// be the one the statement names.
		dir = modelDir(t, true, map[string]string{"x.pkl": "looks evil to the test scanner"})
		rep := []byte(`{"schema_version":1,"tool":"rampart","version":"ci","targets":[],"duration_ms":1,"summary":{},"findings":[]}`)
		sum := sha256Hex(rep)
		st := registry.Statement{Action: registry.ActionPush, Model: "m", Version: "supplied", Digest: e.digest(dir), Report: sum}
		_, err = e.reg.Push(ctx, e.sign(e.alice, st), registry.PushInput{Dir: dir, Report: append(slices.Clone(rep), ' ')})
		wantRefusal(t, err, registry.RefusedDigest)
		v, err = e.reg.Push(ctx, e.sign(e.alice, st), registry.PushInput{Dir: dir, Report: rep})
		if err != nil {
			t.Fatal(err)
		}
		if v.Scan.Source != "supplied by alice" || v.Scan.MaxSeverity != "" || v.Scan.Findings != 0 {
			t.Fatalf("supplied report recorded as %+v", v.Scan)
		}

		// A manifest the caller computed is used only while the files are
		// unchanged.
		dir = modelDir(t, true, nil)
		m, err := registry.DigestDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		st = registry.Statement{Action: registry.ActionPush, Model: "m", Version: "manifest", Digest: m.Digest}
		writeFile(t, dir, "config.json", `{"arch":"changed after hashing"}`)
		_, err = e.reg.Push(ctx, e.sign(e.alice, st), registry.PushInput{Dir: dir, Manifest: m})
		wantRefusal(t, err, registry.RefusedFilesChanged)
		if m, err = registry.DigestDir(ctx, dir); err != nil {
			t.Fatal(err)
		}
		st.Digest = m.Digest
		if _, err := e.reg.Push(ctx, e.sign(e.alice, st), registry.PushInput{Dir: dir, Manifest: m}); err != nil {
			t.Fatal(err)
		}

		// The folder must be the one signed in the statement.
		dir = modelDir(t, true, nil)
		st = registry.Statement{Action: registry.ActionPush, Model: "m", Version: "changed", Digest: e.digest(dir)}
		signed := e.sign(e.alice, st)
		writeFile(t, dir, "config.json", `{"arch":"evil"}`)
		_, err = e.reg.Push(ctx, signed, registry.PushInput{Dir: dir})
		wantRefusal(t, err, registry.RefusedDigest)
	})
}

// TestConcurrentApprovals approves requests of several versions of one
// model at once: they apply one after another (or are refused as
// conflicts), and exactly one version ends in production with a chain of
// previous versions that a rollback can follow.
func TestConcurrentApprovals(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		const n = 5
		reqs := make([]string, n)
		for i := range n {
			e.mustPush(e.alice, "m", string(rune('a'+i)), modelDir(t, true, nil))
			r, err := e.promote(e.alice, "m", string(rune('a'+i)))
			if err != nil {
				t.Fatal(err)
			}
			reqs[i] = r.ID
		}
		var wg sync.WaitGroup
		results := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, results[i] = e.approve(e.bob, "m", string(rune('a'+i)), reqs[i])
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range results {
			switch {
			case err == nil:
				ok++
			case registry.RefusalCode(err) != registry.RefusedConflict:
				t.Errorf("approval %d: %v", i, err)
			}
		}
		if ok == 0 {
			t.Fatal("no concurrent approval succeeded")
		}
		vs, err := e.reg.Versions(context.Background(), "m")
		if err != nil {
			t.Fatal(err)
		}
		prod := 0
		for _, v := range vs {
			if v.Stage == registry.StageProduction {
				prod++
			}
		}
		if prod != 1 {
			t.Fatalf("%d versions in production, want 1", prod)
		}
		e.audited() // the chain verifies
	})
}

// TestRollbackChain rolls back twice through three promotions: each
// rollback returns to the version the current one replaced, never to one
// that was rolled back.
func TestRollbackChain(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		for _, v := range []string{"1", "2", "3"} {
			e.toProduction("m", v)
		}
		if v := e.version("m", "3"); v.Stage != registry.StageProduction || v.Previous != "2" {
			t.Fatalf("m@3: %s, previous %q", v.Stage, v.Previous)
		}
		// A rollback must name the production version.
		_, err := e.rollback(e.bob, "m", "2")
		wantRefusal(t, err, registry.RefusedConflict)
		for _, step := range []struct{ from, to string }{{"3", "2"}, {"2", "1"}} {
			res, err := e.rollback(e.bob, "m", step.from)
			if err != nil {
				t.Fatal(err)
			}
			if res.Retired.Version != step.from || res.Restored.Version != step.to {
				t.Fatalf("rollback from %s restored %s, want %s", step.from, res.Restored.Version, step.to)
			}
		}
		_, err = e.rollback(e.bob, "m", "1")
		wantRefusal(t, err, registry.RefusedNoPrevious)
		_, err = e.rollback(e.bob, "nothing", "1")
		wantRefusal(t, err, registry.RefusedNoProduction)
		// A retired version can be promoted again, with a new approval.
		req, err := e.promote(e.alice, "m", "3")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := e.approve(e.bob, "m", "3", req.ID); err != nil || v.Previous != "1" {
			t.Fatalf("re-promotion of m@3: %v (previous %q)", err, v.Previous)
		}
	})
}

// TestRequestExpiry: a request nobody approves within the TTL expires; its
// approval is refused, the expiry is audited, and a new request can be
// made and approved.
func TestRequestExpiry(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		e.mustPush(e.alice, "m", "1", modelDir(t, true, nil))
		req, err := e.promote(e.alice, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		// Within the TTL the request stays pending and blocks a second one.
		e.now = e.now.Add(registry.DefaultRequestTTL - time.Minute)
		_, err = e.promote(e.alice, "m", "1")
		wantRefusal(t, err, registry.RefusedNoApproval)

		e.now = e.now.Add(2 * time.Minute)
		_, err = e.approve(e.bob, "m", "1", req.ID)
		wantRefusal(t, err, registry.RefusedExpired)
		if got := e.version("m", "1").Stage; got != registry.StageStaging {
			t.Fatalf("after an expired approval the version is %s", got)
		}
		// Once expired, it stays expired.
		_, err = e.approve(e.bob, "m", "1", req.ID)
		wantRefusal(t, err, registry.RefusedExpired)

		req2, err := e.promote(e.alice, "m", "1")
		if err != nil {
			t.Fatalf("a new request after expiry: %v", err)
		}
		if _, err := e.approve(e.bob, "m", "1", req2.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.version("m", "1").Stage; got != registry.StageProduction {
			t.Fatalf("after approving the new request the version is %s", got)
		}
		acts, err := e.reg.History(context.Background(), "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, a := range acts {
			states[a.ID] = a.State
		}
		if states[req.ID] != registry.RequestExpired || states[req2.ID] != registry.RequestApproved {
			t.Errorf("request states: first %q, second %q", states[req.ID], states[req2.ID])
		}
		want := []string{
			"registry.push alice m@1 allow",
			"registry.promote.request alice m@1 allow",
			"registry.promote.request alice m@1 denied",
			"registry.promote.expire registry m@1 " + req.ID + " allow",
			"registry.approve bob m@1 denied",
			"registry.approve bob m@1 denied",
			"registry.promote.request alice m@1 allow",
			"registry.approve bob m@1 allow",
			"registry.promote alice m@1 allow",
		}
		if diff := cmp.Diff(want, summary(e.audited())); diff != "" {
			t.Errorf("audit records (-want +got):\n%s", diff)
		}
	})
}

// TestRequestsNeverExpire: a negative RequestTTL keeps requests pending.
func TestRequestsNeverExpire(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newEnv(t, open(t))
		e.reg = registry.New(e.st, registry.Options{Scanner: scanFolder, Verifier: verifySig, Clock: func() time.Time { return e.now }, RequestTTL: -1})
		e.mustPush(e.alice, "m", "1", modelDir(t, true, nil))
		req, err := e.promote(e.alice, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		e.now = e.now.Add(10 * 365 * 24 * time.Hour)
		if _, err := e.approve(e.bob, "m", "1", req.ID); err != nil {
			t.Fatalf("approval years later with RequestTTL < 0: %v", err)
		}
	})
}
