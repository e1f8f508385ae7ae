package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store"
)

// registryTests check the registry.Store methods.
var registryTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"RegistryIdentities", testRegistryIdentities},
	{"RegistryRotateKey", testRegistryRotateKey},
	{"RegistryRotateKeyRefusals", testRegistryRotateKeyRefusals},
	{"RegistryRemoveIdentity", testRegistryRemoveIdentity},
	{"RegistryRetiredSignersConflict", testRegistryRetiredSignersConflict},
	{"RegistryVersionRoundTrip", testRegistryVersionRoundTrip},
	{"RegistryRequests", testRegistryRequests},
	{"RegistryPromoteAndRollback", testRegistryPromoteAndRollback},
	{"RegistryConflictsWriteNothing", testRegistryConflictsWriteNothing},
	{"RegistryConcurrentPromotions", func(t *testing.T, s store.Store) { racePromotions(t, []store.Store{s}) }},
}

// regIdentity returns an identity with a fresh Ed25519 key.
func regIdentity(t *testing.T, name string, at time.Time) *registry.Identity {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &registry.Identity{Name: name, KeyID: registry.KeyIDOf(der), Algorithm: registry.AlgEd25519, PublicKey: der,
		AddedBy: "cli", CreatedAt: at.UTC().Truncate(time.Microsecond)}
}

// regAction returns an action with a unique statement (the store does not
// verify signatures; package registry does).
func regAction(kind, name, version, actor string, at time.Time) *registry.Action {
	var n [16]byte
	_, _ = rand.Read(n[:])
	st := fmt.Appendf(nil, `{"kind":%q,"model":%q,"version":%q,"nonce":"%x"}`, kind, name, version, n)
	sum := sha256.Sum256(st)
	a := &registry.Action{
		ID: "act_" + hex.EncodeToString(sum[:16]), Kind: kind, Name: name, Version: version, Actor: actor,
		KeyID: "sha256:" + hex.EncodeToString(sum[:]), Statement: st, Signature: []byte("sig"), CreatedAt: at.UTC().Truncate(time.Microsecond),
	}
	if kind == registry.KindRequest {
		a.State = registry.RequestPending
	}
	return a
}

// regVersion returns a staging version with every field set.
func regVersion(name, version, pusher string, at time.Time) *registry.Version {
	sum := sha256.Sum256([]byte(name + "@" + version))
	at = at.UTC().Truncate(time.Microsecond)
	files := []registry.File{{Path: "config.json", Size: 12, SHA256: hex.EncodeToString(sum[:])}, {Path: "weights/model.safetensors", Size: 1 << 30, SHA256: hex.EncodeToString(sum[:])}}
	return &registry.Version{
		Name: name, Version: version, Digest: registry.ManifestDigest(files), Files: files,
		Signature: registry.SignatureInfo{Verified: true, Signer: "sha256:abc"},
		Scan:      registry.Scan{Source: "registry", MaxSeverity: "low", Findings: 2, Report: []byte(`{"schema_version":1,"findings":[]}`)},
		Lineage:   []string{"dataset:sha256:1234", "free text"},
		Stage:     registry.StageStaging, PushedBy: pusher, PushedAt: at, StageAt: at,
	}
}

func auditRecords(t *testing.T, s audit.Store) []audit.Record {
	t.Helper()
	var recs []audit.Record
	if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
		r, err := audit.Decode(e.Payload)
		recs = append(recs, r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

func auditPayload(t *testing.T, action, target string) [][]byte {
	t.Helper()
	p, err := audit.Encode(audit.AdminRecord(action, target, "test"))
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{p}
}

func testRegistryIdentities(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	alice, bob := regIdentity(t, "alice", now), regIdentity(t, "bob", now.Add(time.Second))
	for _, id := range []*registry.Identity{bob, alice} {
		if err := s.AddRegistryIdentity(ctx, id, auditPayload(t, "registry.identity.add", id.Name)); err != nil {
			t.Fatal(err)
		}
	}
	sameName := regIdentity(t, "alice", now)
	sameKey := *bob
	sameKey.Name = "mallory"
	for _, id := range []*registry.Identity{sameName, &sameKey} {
		if err := s.AddRegistryIdentity(ctx, id, auditPayload(t, "registry.identity.add", id.Name)); !errors.Is(err, registry.ErrExists) {
			t.Errorf("AddRegistryIdentity(%s, a taken name or key) = %v, want ErrExists", id.Name, err)
		}
	}
	got, err := s.RegistryIdentityByKeyID(ctx, alice.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(alice, got); d != "" {
		t.Errorf("RegistryIdentityByKeyID (-want +got):\n%s", d)
	}
	if _, err := s.RegistryIdentityByKeyID(ctx, sameName.KeyID); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("RegistryIdentityByKeyID(unregistered key) = %v, want ErrNotFound", err)
	}
	list, err := s.ListRegistryIdentities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Fatalf("ListRegistryIdentities = %d identities, want alice then bob", len(list))
	}
	// Only the two accepted additions reached the audit chain.
	if recs := auditRecords(t, s); len(recs) != 2 || recs[0].Target != "bob" || recs[1].Target != "alice" {
		t.Fatalf("audit chain holds %d records (%v), want the two identity additions", len(recs), recs)
	}
}

// addIdentities registers an identity for each name and returns them.
func addIdentities(t *testing.T, s store.Store, names ...string) []*registry.Identity {
	t.Helper()
	ids := make([]*registry.Identity, len(names))
	for i, n := range names {
		ids[i] = regIdentity(t, n, time.Now())
		if err := s.AddRegistryIdentity(context.Background(), ids[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func pushVersion(t *testing.T, s store.Store, name, version, pusher string, at time.Time) *registry.Version {
	t.Helper()
	v := regVersion(name, version, pusher, at)
	if err := s.CreateModelVersion(context.Background(), v, regAction(registry.KindPush, name, version, pusher, at), nil); err != nil {
		t.Fatal(err)
	}
	return v
}

func testRegistryVersionRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	addIdentities(t, s, "alice")
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2026, 3, 1, 12, 30, 45, 123456789, zone)
	v := regVersion("meta-llama/Llama-3-8B", "1.0", "alice", base)
	push := regAction(registry.KindPush, v.Name, v.Version, "alice", base)
	if err := s.CreateModelVersion(ctx, v, push, auditPayload(t, "registry.push", v.Target())); err != nil {
		t.Fatal(err)
	}
	got, err := s.ModelVersion(ctx, v.Name, v.Version)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(v, got); d != "" {
		t.Errorf("ModelVersion (-want +got):\n%s", d)
	}
	if got.PushedAt.Location() != time.UTC {
		t.Errorf("PushedAt is in %v, want UTC", got.PushedAt.Location())
	}
	// A version is pushed once; a statement is accepted once.
	if err := s.CreateModelVersion(ctx, regVersion(v.Name, v.Version, "alice", base), regAction(registry.KindPush, v.Name, v.Version, "alice", base), nil); !errors.Is(err, registry.ErrExists) {
		t.Errorf("CreateModelVersion of an existing version = %v, want ErrExists", err)
	}
	if err := s.CreateModelVersion(ctx, regVersion(v.Name, "2.0", "alice", base), push, nil); !errors.Is(err, registry.ErrExists) {
		t.Errorf("CreateModelVersion with a used statement = %v, want ErrExists", err)
	}
	if _, err := s.ModelVersion(ctx, v.Name, "2.0"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("the version of a refused push was stored (ModelVersion = %v)", err)
	}
	if _, err := s.ModelVersion(ctx, "nope", "1"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("ModelVersion(unknown) = %v, want ErrNotFound", err)
	}
	pushVersion(t, s, v.Name, "1.1", "alice", base.Add(time.Hour))
	pushVersion(t, s, "another", "1", "alice", base)
	list, err := s.ListModelVersions(ctx, v.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Version != "1.1" || list[1].Version != "1.0" {
		t.Fatalf("ListModelVersions(%s) = %d versions, want 1.1 then 1.0", v.Name, len(list))
	}
	all, err := s.ListModelVersions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Name != "another" {
		t.Fatalf("ListModelVersions(\"\") = %d versions, want 3, by name", len(all))
	}
	acts, err := s.ListModelActions(ctx, v.Name, v.Version)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || cmp.Diff(push, acts[0]) != "" {
		t.Fatalf("ListModelActions = %v, want the push action %v", acts, push)
	}
	if acts, _ := s.ListModelActions(ctx, v.Name, ""); len(acts) != 2 {
		t.Fatalf("ListModelActions(every version) = %d actions, want 2", len(acts))
	}
}

func testRegistryRequests(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	addIdentities(t, s, "alice")
	pushVersion(t, s, "m", "1", "alice", now)
	req := regAction(registry.KindRequest, "m", "1", "alice", now)
	if err := s.AddModelRequest(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	// One pending request per version.
	if err := s.AddModelRequest(ctx, regAction(registry.KindRequest, "m", "1", "alice", now), nil); !errors.Is(err, registry.ErrExists) {
		t.Errorf("a second pending request = %v, want ErrExists", err)
	}
	if err := s.AddModelRequest(ctx, regAction(registry.KindRequest, "m", "9", "alice", now), nil); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a request for an unknown version = %v, want ErrNotFound", err)
	}
	acts, err := s.ListModelActions(ctx, "m", "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[1].ID != req.ID || acts[1].State != registry.RequestPending {
		t.Fatalf("actions after a request: %v", acts)
	}

	// Expiry closes the pending request, with its audit record, and makes
	// room for a new one; a request that is not pending cannot expire.
	before := len(auditRecords(t, s))
	if err := s.ExpireModelRequest(ctx, req.ID, auditPayload(t, "registry.promote.expire", "m@1")); err != nil {
		t.Fatal(err)
	}
	if n := len(auditRecords(t, s)); n != before+1 {
		t.Errorf("expiry wrote %d audit records, want 1", n-before)
	}
	if err := s.ExpireModelRequest(ctx, req.ID, auditPayload(t, "registry.promote.expire", "m@1")); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("expiring an expired request = %v, want ErrConflict", err)
	}
	if err := s.ExpireModelRequest(ctx, "act_unknown", nil); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("expiring an unknown request = %v, want ErrConflict", err)
	}
	if n := len(auditRecords(t, s)); n != before+1 {
		t.Errorf("refused expiries wrote %d audit records", n-before-1)
	}
	again := regAction(registry.KindRequest, "m", "1", "alice", now.Add(time.Second))
	if err := s.AddModelRequest(ctx, again, nil); err != nil {
		t.Fatalf("a new request after expiry: %v", err)
	}
	acts, err = s.ListModelActions(ctx, "m", "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 3 || acts[1].State != registry.RequestExpired || acts[2].ID != again.ID || acts[2].State != registry.RequestPending {
		t.Fatalf("actions after expiry and a new request: %v", acts)
	}
}

// promotion returns a Promotion of v approving req.
func promotion(v *registry.Version, req *registry.Action, approver, production string, at time.Time) *registry.Promotion {
	appr := regAction(registry.KindApprove, v.Name, v.Version, approver, at)
	appr.Request = req.ID
	return &registry.Promotion{Name: v.Name, Version: v.Version, Digest: v.Digest, Request: req.ID, Approval: appr,
		Production: production, At: at.UTC().Truncate(time.Microsecond)}
}

func request(t *testing.T, s store.Store, v *registry.Version, actor string) *registry.Action {
	t.Helper()
	req := regAction(registry.KindRequest, v.Name, v.Version, actor, time.Now())
	if err := s.AddModelRequest(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	return req
}

func stageOf(t *testing.T, s store.Store, name, version string) (registry.Stage, string) {
	t.Helper()
	v, err := s.ModelVersion(context.Background(), name, version)
	if err != nil {
		t.Fatal(err)
	}
	return v.Stage, v.Previous
}

func testRegistryPromoteAndRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	addIdentities(t, s, "alice", "bob")
	v1 := pushVersion(t, s, "m", "1", "alice", now)
	v2 := pushVersion(t, s, "m", "2", "alice", now.Add(time.Second))
	pushVersion(t, s, "other", "1", "alice", now)

	r1 := request(t, s, v1, "alice")
	if err := s.PromoteModel(ctx, promotion(v1, r1, "bob", "", now), auditPayload(t, "registry.promote", "m@1")); err != nil {
		t.Fatal(err)
	}
	if st, prev := stageOf(t, s, "m", "1"); st != registry.StageProduction || prev != "" {
		t.Fatalf("after promotion m@1 is %s (previous %q), want production", st, prev)
	}
	// The request is closed: it cannot be approved twice.
	if err := s.PromoteModel(ctx, promotion(v2, r1, "bob", "1", now), nil); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("a promotion approving a closed request = %v, want ErrConflict", err)
	}
	r2 := request(t, s, v2, "alice")
	// The expected production version must be the current one.
	if err := s.PromoteModel(ctx, promotion(v2, r2, "bob", "", now), nil); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("a promotion expecting no production version = %v, want ErrConflict", err)
	}
	stale := promotion(v2, r2, "bob", "1", now)
	stale.Digest = v1.Digest
	if err := s.PromoteModel(ctx, stale, nil); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("a promotion with another digest = %v, want ErrConflict", err)
	}
	later := now.Add(time.Minute)
	if err := s.PromoteModel(ctx, promotion(v2, r2, "bob", "1", later), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := stageOf(t, s, "m", "1"); st != registry.StageRetired {
		t.Fatalf("the replaced version is %s, want retired", st)
	}
	if st, prev := stageOf(t, s, "m", "2"); st != registry.StageProduction || prev != "1" {
		t.Fatalf("m@2 is %s with previous %q, want production with previous 1", st, prev)
	}
	prod, err := s.ProductionModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"m": "2"}, prod); d != "" {
		t.Fatalf("ProductionModels (-want +got):\n%s", d)
	}
	acts, _ := s.ListModelActions(ctx, "m", "2")
	if len(acts) != 3 || acts[1].State != registry.RequestApproved || acts[2].Kind != registry.KindApprove || acts[2].Request != r2.ID {
		t.Fatalf("m@2's actions after promotion: %v", acts)
	}

	// Rollback: only from the production version to its previous one.
	rb := func(from, to string) *registry.Rollback {
		return &registry.Rollback{Name: "m", From: from, To: to, Action: regAction(registry.KindRollback, "m", from, "bob", later), At: later}
	}
	for _, bad := range []*registry.Rollback{rb("1", ""), rb("2", "9"), rb("2", "")} {
		if err := s.RollbackModel(ctx, bad, nil); !errors.Is(err, registry.ErrConflict) && !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("RollbackModel(%s → %q) = %v, want a conflict", bad.From, bad.To, err)
		}
	}
	if err := s.RollbackModel(ctx, rb("2", "1"), auditPayload(t, "registry.rollback", "m@2")); err != nil {
		t.Fatal(err)
	}
	if st, _ := stageOf(t, s, "m", "2"); st != registry.StageRetired {
		t.Fatalf("after rollback m@2 is %s, want retired", st)
	}
	if st, _ := stageOf(t, s, "m", "1"); st != registry.StageProduction {
		t.Fatalf("after rollback m@1 is %s, want production", st)
	}
	// m@1 has no previous version: a second rollback has nowhere to go.
	if err := s.RollbackModel(ctx, rb("1", ""), nil); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("rollback of a version without a previous one = %v, want ErrConflict", err)
	}
	if prod, _ := s.ProductionModels(ctx); prod["m"] != "1" || len(prod) != 1 {
		t.Fatalf("ProductionModels after rollback = %v", prod)
	}
	if recs := auditRecords(t, s); len(recs) != 2 {
		t.Fatalf("audit chain holds %d records, want the promotion's and the rollback's", len(recs))
	}
	checkChain(t, s, 2)
}

// testRegistryConflictsWriteNothing checks that a refused change leaves no
// trace: no action, no stage change, no audit record.
func testRegistryConflictsWriteNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	addIdentities(t, s, "alice", "bob")
	v := pushVersion(t, s, "m", "1", "alice", now)
	r := request(t, s, v, "alice")
	p := promotion(v, r, "bob", "9", now) // wrong expected production version
	if err := s.PromoteModel(ctx, p, auditPayload(t, "registry.promote", "m@1")); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("PromoteModel = %v, want ErrConflict", err)
	}
	if recs := auditRecords(t, s); len(recs) != 0 {
		t.Fatalf("a refused promotion left %d audit records", len(recs))
	}
	acts, _ := s.ListModelActions(ctx, "m", "1")
	if len(acts) != 2 || acts[1].State != registry.RequestPending {
		t.Fatalf("a refused promotion changed the actions: %v", acts)
	}
	if st, _ := stageOf(t, s, "m", "1"); st != registry.StageStaging {
		t.Fatalf("a refused promotion left m@1 %s", st)
	}
}

// racePromotions promotes 8 versions of one model at once, each expecting
// no production version, through the given handles: exactly one may win.
func racePromotions(t *testing.T, handles []store.Store) {
	ctx := context.Background()
	now := time.Now()
	s := handles[0]
	addIdentities(t, s, "alice", "bob")
	const n = 8
	proms := make([]*registry.Promotion, n)
	for i := range proms {
		v := pushVersion(t, s, "race", fmt.Sprint(i), "alice", now)
		proms[i] = promotion(v, request(t, s, v, "alice"), "bob", "", now)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []string
		errs []error
	)
	for i, p := range proms {
		h := handles[i%len(handles)]
		wg.Go(func() {
			err := h.PromoteModel(ctx, p, auditPayload(t, "registry.promote", "race@"+p.Version))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, p.Version)
			case !errors.Is(err, registry.ErrConflict):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("a losing promotion failed with %v, want ErrConflict", err)
	}
	if len(won) != 1 {
		t.Fatalf("%d racing promotions succeeded (%v), want exactly 1", len(won), won)
	}
	vs, err := s.ListModelVersions(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	prod := 0
	for _, v := range vs {
		if v.Stage == registry.StageProduction {
			prod++
			if v.Version != won[0] {
				t.Errorf("%s is in production, but %s won", v.Version, won[0])
			}
		}
	}
	if prod != 1 {
		t.Fatalf("%d versions in production after the race, want 1", prod)
	}
	checkChain(t, s, 1)
}

// rotation returns alice's next key, bound by admin at at.
func rotation(t *testing.T, name string, at time.Time) *registry.Identity {
	t.Helper()
	next := regIdentity(t, name, at)
	next.AddedBy = "admin2"
	return next
}

func testRegistryRotateKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	alice := regIdentity(t, "alice", now)
	if err := s.AddRegistryIdentity(ctx, alice, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetiredRegistryKey(ctx, alice.KeyID); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("RetiredRegistryKey(a current key) = %v, want ErrNotFound", err)
	}
	k2 := rotation(t, "alice", now.Add(time.Hour))
	if err := s.RotateRegistryKey(ctx, "alice", k2, "admin2", "laptop stolen", auditPayload(t, "registry.identity.rotate", "alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegistryIdentityByKeyID(ctx, alice.KeyID); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("RegistryIdentityByKeyID(retired key) = %v, want ErrNotFound", err)
	}
	got, err := s.RegistryIdentityByKeyID(ctx, k2.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(k2, got); d != "" {
		t.Errorf("the rotated identity (-want +got):\n%s", d)
	}
	old, err := s.RetiredRegistryKey(ctx, alice.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	want := &registry.RetiredKey{KeyID: alice.KeyID, Name: "alice", Algorithm: alice.Algorithm, PublicKey: alice.PublicKey,
		AddedBy: alice.AddedBy, CreatedAt: alice.CreatedAt, RetiredAt: k2.CreatedAt, RetiredBy: "admin2", Reason: "laptop stolen"}
	if d := cmp.Diff(want, old); d != "" {
		t.Errorf("RetiredRegistryKey (-want +got):\n%s", d)
	}
	// A second rotation retires k2 as well; the list keeps both, oldest
	// first.
	k3 := rotation(t, "alice", now.Add(2*time.Hour))
	if err := s.RotateRegistryKey(ctx, "alice", k3, "admin2", "", nil); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListRetiredRegistryKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KeyID != alice.KeyID || keys[1].KeyID != k2.KeyID || keys[1].AddedBy != "admin2" || keys[1].Reason != "" {
		t.Fatalf("ListRetiredRegistryKeys = %d keys %v, want alice's first key then k2", len(keys), keys)
	}
	if recs := auditRecords(t, s); len(recs) != 1 || recs[0].Action != "registry.identity.rotate" {
		t.Fatalf("audit chain holds %v, want the first rotation's record", recs)
	}
}

func testRegistryRotateKeyRefusals(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	ids := addIdentities(t, s, "alice", "bob")
	alice, bob := ids[0], ids[1]
	k2 := rotation(t, "alice", now.Add(time.Minute))
	if err := s.RotateRegistryKey(ctx, "alice", k2, "admin", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRegistryIdentity(ctx, "bob", "admin", now.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	withKey := func(name string, key *registry.Identity) *registry.Identity {
		id := *key
		id.Name = name
		return &id
	}
	tests := []struct {
		name string
		id   string
		next *registry.Identity
		want error
	}{
		{"a retired key comes back", "alice", withKey("alice", alice), registry.ErrExists},
		{"to its own current key", "alice", withKey("alice", k2), registry.ErrExists},
		{"to a removed identity's key", "alice", withKey("alice", bob), registry.ErrExists},
		{"a removed identity", "bob", rotation(t, "bob", now), registry.ErrNotFound},
		{"an unknown identity", "carol", rotation(t, "carol", now), registry.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.RotateRegistryKey(ctx, tc.id, tc.next, "admin", "", auditPayload(t, "registry.identity.rotate", tc.id)); !errors.Is(err, tc.want) {
				t.Fatalf("RotateRegistryKey = %v, want %v", err, tc.want)
			}
		})
	}
	// A retired key cannot be registered for a new identity either.
	if err := s.AddRegistryIdentity(ctx, withKey("carol", alice), auditPayload(t, "registry.identity.add", "carol")); !errors.Is(err, registry.ErrExists) {
		t.Errorf("AddRegistryIdentity(a retired key) = %v, want ErrExists", err)
	}
	// Nothing changed and nothing was audited.
	if recs := auditRecords(t, s); len(recs) != 0 {
		t.Errorf("refused rotations left %d audit records", len(recs))
	}
	if got, err := s.RegistryIdentityByKeyID(ctx, k2.KeyID); err != nil || got.Name != "alice" {
		t.Errorf("alice's key after refused rotations: %v, %v", got, err)
	}
	if keys, err := s.ListRetiredRegistryKeys(ctx); err != nil || len(keys) != 1 {
		t.Errorf("retired keys after refused rotations: %d, %v; want 1", len(keys), err)
	}
}

func testRegistryRemoveIdentity(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	bob := addIdentities(t, s, "alice", "bob")[1]
	pushVersion(t, s, "m", "1", "bob", now) // bob has acted: his row must stay
	at := now.Add(time.Hour).UTC().Truncate(time.Microsecond)
	if err := s.RemoveRegistryIdentity(ctx, "bob", "admin", at, auditPayload(t, "registry.identity.remove", "bob")); err != nil {
		t.Fatal(err)
	}
	got, err := s.RegistryIdentityByKeyID(ctx, bob.KeyID)
	if err != nil {
		t.Fatalf("RegistryIdentityByKeyID(a removed identity's key) = %v", err)
	}
	wantBob := *bob
	wantBob.RemovedAt, wantBob.RemovedBy = at, "admin"
	if d := cmp.Diff(&wantBob, got); d != "" {
		t.Errorf("the removed identity (-want +got):\n%s", d)
	}
	list, err := s.ListRegistryIdentities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Removed() || !list[1].Removed() || !list[1].RemovedAt.Equal(at) {
		t.Fatalf("ListRegistryIdentities = %v, want alice active and bob removed", list)
	}
	tests := []struct {
		name, id string
		want     error
	}{
		{"twice", "bob", registry.ErrConflict},
		{"unknown", "carol", registry.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.RemoveRegistryIdentity(ctx, tc.id, "admin", at, auditPayload(t, "registry.identity.remove", tc.id)); !errors.Is(err, tc.want) {
				t.Fatalf("RemoveRegistryIdentity(%s) = %v, want %v", tc.id, err, tc.want)
			}
		})
	}
	// The name stays taken.
	if err := s.AddRegistryIdentity(ctx, regIdentity(t, "bob", now), auditPayload(t, "registry.identity.add", "bob")); !errors.Is(err, registry.ErrExists) {
		t.Errorf("AddRegistryIdentity(a removed name) = %v, want ErrExists", err)
	}
	if recs := auditRecords(t, s); len(recs) != 1 || recs[0].Action != "registry.identity.remove" {
		t.Fatalf("audit chain holds %v, want the one removal", recs)
	}
	if got, err := s.RegistryIdentityByKeyID(ctx, bob.KeyID); err != nil || !got.RemovedAt.Equal(at) {
		t.Errorf("bob after the refused removal: %v, %v", got, err)
	}
}

// signed returns an action by id, with id's key.
func signed(kind, name, version string, id *registry.Identity, at time.Time) *registry.Action {
	a := regAction(kind, name, version, id.Name, at)
	a.KeyID = id.KeyID
	return a
}

// testRegistryRetiredSignersConflict: an action stored after its key was
// retired or its actor removed (a rotation or removal committed between
// the registry's check and the change) fails with ErrConflict and writes
// nothing.
func testRegistryRetiredSignersConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	ids := addIdentities(t, s, "alice", "bob", "carol")
	alice, bob, carol := ids[0], ids[1], ids[2]
	v1 := regVersion("m", "1", "alice", now)
	if err := s.CreateModelVersion(ctx, v1, signed(registry.KindPush, "m", "1", alice, now), nil); err != nil {
		t.Fatal(err)
	}
	v2 := regVersion("m", "2", "bob", now)
	if err := s.CreateModelVersion(ctx, v2, signed(registry.KindPush, "m", "2", bob, now), nil); err != nil {
		t.Fatal(err)
	}
	req := signed(registry.KindRequest, "m", "1", alice, now)
	if err := s.AddModelRequest(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	next := rotation(t, "alice", now)
	if err := s.RotateRegistryKey(ctx, "alice", next, "admin", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRegistryIdentity(ctx, "carol", "admin", now, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func(audit [][]byte) error
	}{
		{"push with a retired key", func(p [][]byte) error {
			return s.CreateModelVersion(ctx, regVersion("m", "3", "alice", now), signed(registry.KindPush, "m", "3", alice, now), p)
		}},
		{"push by a removed identity", func(p [][]byte) error {
			return s.CreateModelVersion(ctx, regVersion("m", "3", "carol", now), signed(registry.KindPush, "m", "3", carol, now), p)
		}},
		{"request with a retired key", func(p [][]byte) error {
			return s.AddModelRequest(ctx, signed(registry.KindRequest, "m", "2", alice, now), p)
		}},
		{"approval of a request signed with a retired key", func(p [][]byte) error {
			pr := promotion(v1, req, "bob", "", now)
			pr.Approval.KeyID = bob.KeyID
			return s.PromoteModel(ctx, pr, p)
		}},
		{"approval by a removed identity", func(p [][]byte) error {
			req2 := signed(registry.KindRequest, "m", "2", bob, now)
			if err := s.AddModelRequest(ctx, req2, nil); err != nil {
				return err
			}
			pr := promotion(v2, req2, "carol", "", now)
			pr.Approval.KeyID = carol.KeyID
			return s.PromoteModel(ctx, pr, p)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(auditPayload(t, "registry.test", tc.name)); !errors.Is(err, registry.ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
		})
	}
	if recs := auditRecords(t, s); len(recs) != 0 {
		t.Errorf("refused changes left %d audit records", len(recs))
	}
	for _, v := range []string{"1", "2"} {
		if st, _ := stageOf(t, s, "m", v); st != registry.StageStaging {
			t.Errorf("m@%s is %s after refused promotions", v, st)
		}
	}
	if _, err := s.ModelVersion(ctx, "m", "3"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("m@3 after refused pushes: %v", err)
	}
	// The new key acts.
	if err := s.CreateModelVersion(ctx, regVersion("m", "3", "alice", now), signed(registry.KindPush, "m", "3", next, now), nil); err != nil {
		t.Errorf("push with alice's new key: %v", err)
	}
}

// CheckMigratedRegistry checks a store opened on a database that was at
// schema 0003 holding the identity alice (key sha256:aa, created at
// created), version m@1, its push act_1 and pending request act_2:
// migration 0004 kept them, marks alice active, and her key can be
// rotated.
func CheckMigratedRegistry(t *testing.T, s store.Store, created time.Time) {
	t.Helper()
	ctx := context.Background()
	ids, err := s.ListRegistryIdentities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0].Name != "alice" || ids[0].KeyID != "sha256:aa" || !ids[0].CreatedAt.Equal(created) || ids[0].Removed() || ids[0].RemovedBy != "" {
		t.Fatalf("identities after the migration: %+v", ids)
	}
	acts, err := s.ListModelActions(ctx, "m", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].ID != "act_1" || acts[1].State != registry.RequestPending {
		t.Fatalf("actions after the migration: %+v", acts)
	}
	next := &registry.Identity{Name: "alice", KeyID: "sha256:bb", Algorithm: "ed25519", PublicKey: []byte{0x30, 2}, AddedBy: "cli", CreatedAt: created.Add(time.Hour)}
	if err := s.RotateRegistryKey(ctx, "alice", next, "cli", "", nil); err != nil {
		t.Fatal(err)
	}
	if k, err := s.RetiredRegistryKey(ctx, "sha256:aa"); err != nil || k.Name != "alice" || !k.CreatedAt.Equal(created) {
		t.Fatalf("RetiredRegistryKey after rotating a migrated identity: %+v, %v", k, err)
	}
}
