package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/artifact/sign"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
	"github.com/rampartsec/rampart/store"
)

// scanModelDir is the registry's scanner: `rampart scan model` on the
// version's folder.
func scanModelDir(ctx context.Context, dir string) (*finding.Report, error) {
	return model.Scan(ctx, []string{dir}, model.Options{})
}

// signatureVerifier is the registry's verifier: the model's signature must
// hold for v and name every file of the folder unchanged.
func signatureVerifier(v sign.Verifier) registry.Verifier {
	return func(ctx context.Context, dir, sig string) (registry.SignatureInfo, error) {
		res, err := sign.VerifyFile(ctx, dir, v, sign.Options{SignaturePath: sig})
		if err != nil {
			return registry.SignatureInfo{}, err
		}
		if !res.OK() {
			names := make([]string, 0, len(res.Changes))
			for _, c := range res.Changes {
				names = append(names, c.Kind.String()+" "+c.Name)
			}
			return registry.SignatureInfo{}, fmt.Errorf("the signature by %s holds, but %d file(s) changed: %s", res.Signer, len(res.Changes), strings.Join(names, ", "))
		}
		return registry.SignatureInfo{Verified: true, Signer: res.Signer}, nil
	}
}

func newRegistryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Keep model versions and promote them to production with two-person approval",
		Long: `The model registry keeps every version of a model: its digest, signature, scan
result, lineage and stage (staging, production, retired).

Every action is a statement signed with the acting identity's private key
(--key, PKCS#8 PEM, Ed25519 or ECDSA P-256); an administrator binds each
identity's public key to its name first (registry identity add). Promotion
to production takes two people: one requests it (registry promote), another
approves that request (registry approve), and the approval promotes the
version when its scan has no high or critical finding and its signature
verified. A rollback (registry rollback) needs no approval: it retires the
production version and restores the one it replaced. Every action and every
refusal is recorded in the audit log.`,
	}
	cmd.AddCommand(newRegistryPushCmd(), newRegistryListCmd(), newRegistryShowCmd(), newRegistryPromoteCmd(),
		newRegistryApproveCmd(), newRegistryRollbackCmd(), newRegistryIdentityCmd())
	return cmd
}

// registryFlags are the flags every registry command shares.
type registryFlags struct {
	storeFlags
	format string
	key    string
}

func (f *registryFlags) register(cmd *cobra.Command, withKey bool) {
	f.storeFlags.register(cmd)
	cmd.Flags().StringVar(&f.format, "format", "table", "output format: table or json")
	if withKey {
		cmd.Flags().StringVar(&f.key, "key", "", "the acting identity's private key (PKCS#8 PEM file, required)")
		_ = cmd.MarkFlagRequired("key")
	}
}

// open checks the flags, opens the store and returns a registry over it.
func (f *registryFlags) open(ctx context.Context, opts registry.Options) (store.Store, *registry.Registry, error) {
	if f.format != "table" && f.format != "json" {
		return nil, nil, fmt.Errorf("--format %q: want table or json", f.format)
	}
	st, cfg, err := f.storeFlags.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	opts.RequestTTL = cfg.Registry.RequestTTL
	return st, registry.New(st, opts), nil
}

// signer reads the --key file.
func (f *registryFlags) signer() (*registry.Signer, error) {
	b, err := readBounded(f.key, registry.MaxKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	s, err := registry.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", f.key, err)
	}
	return s, nil
}

// signedRegistry is what a command that signs a registry action works
// with: the registry, the store it is opened over and the --key signer.
type signedRegistry struct {
	*registry.Registry
	st     store.Store
	signer *registry.Signer
}

// openSigned reads --key, checks the flags and opens the registry with
// opts. The caller closes the result.
func (f *registryFlags) openSigned(ctx context.Context, opts registry.Options) (*signedRegistry, error) {
	s, err := f.signer()
	if err != nil {
		return nil, err
	}
	st, reg, err := f.open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &signedRegistry{Registry: reg, st: st, signer: s}, nil
}

// Close closes the store.
func (r *signedRegistry) Close() error { return r.st.Close() }

// sign signs stmt with the --key identity, dated now.
func (r *signedRegistry) sign(stmt registry.Statement) (registry.SignedStatement, error) {
	return r.signer.Sign(stmt, time.Now())
}

// version returns the version NAME VERSION and a statement of action on
// it, bound to its digest.
func (r *signedRegistry) version(ctx context.Context, action, name, version string) (*registry.Version, registry.Statement, error) {
	v, err := r.Version(ctx, name, version)
	if err != nil {
		return nil, registry.Statement{}, err
	}
	return v, registry.Statement{Action: action, Model: v.Name, Version: v.Version, Digest: v.Digest}, nil
}

func newRegistryPushCmd() *cobra.Command {
	var (
		f         registryFlags
		lineage   []string
		report    string
		signature string
		vf        verifierFlags
	)
	cmd := &cobra.Command{
		Use:   "push NAME VERSION DIR --key FILE [--pubkey KEY | --cert-chain PEM...]",
		Short: "Record a model folder as a new version in staging",
		Long: `Hash every file of the model folder DIR (model.sig excepted), sign a push
statement naming the digest with --key, and record the version in staging.

The registry scans the folder with the model scanner, unless --scan-report
gives the JSON report of a scan already made (its SHA-256 is part of the
signed statement, and the version records that the pusher supplied it), and
verifies DIR/model.sig (or --signature) with the model signer's public key
(--pubkey) or certificate chain (--cert-chain), as "rampart model verify"
does. A version without a scan result, with a high or critical finding, or
without a signature that verifies (no --pubkey or --cert-chain given, a bad
signature, or files changed since signing) is recorded but cannot be
promoted.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opts := registry.Options{Scanner: scanModelDir}
			if vf.given() {
				v, err := vf.verifier()
				if err != nil {
					return err
				}
				opts.Verifier = signatureVerifier(v)
			}
			reg, err := f.openSigned(ctx, opts)
			if err != nil {
				return err
			}
			defer reg.Close()
			m, err := registry.DigestDir(ctx, args[2])
			if err != nil {
				return err
			}
			in := registry.PushInput{Dir: args[2], Signature: signature, Manifest: m}
			stmt := registry.Statement{Action: registry.ActionPush, Model: args[0], Version: args[1], Digest: m.Digest, Lineage: lineage}
			if report != "" {
				if in.Report, err = readBounded(report, registry.MaxReport); err != nil {
					return fmt.Errorf("--scan-report: %w", err)
				}
				stmt.Report = sha256Digest(in.Report)
			}
			ss, err := reg.sign(stmt)
			if err != nil {
				return err
			}
			v, err := reg.Push(ctx, ss, in)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), versionView(v, nil, nil))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pushed %s %s (staging) as %s.\n", v.Name, v.Version, v.PushedBy)
			return printVersion(cmd.OutOrStdout(), v, nil, nil)
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.StringArrayVar(&lineage, "lineage", nil, "lineage entry, e.g. a dataset manifest's name or digest (repeatable)")
	fl.StringVar(&report, "scan-report", "", "JSON report of `rampart scan model` to record instead of scanning")
	fl.StringVar(&signature, "signature", "", "the model's signature file (default DIR/model.sig)")
	vf.register(cmd)
	return cmd
}

func newRegistryListCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "list [NAME]",
		Short: "List the versions of every model, or of one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, reg, err := f.open(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			vs, err := reg.Versions(ctx, name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.format == "json" {
				views := make([]versionJSON, 0, len(vs))
				for _, v := range vs {
					views = append(views, versionView(v, nil, nil))
				}
				return writeJSON(out, views)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tSTAGE\tDIGEST\tSCAN\tSIGNATURE\tPUSHED BY\tPUSHED")
			for _, v := range vs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.Version, v.Stage, shortDigest(v.Digest),
					scanSummary(v.Scan, true), signatureSummary(v.Signature, true), v.PushedBy, v.PushedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	f.register(cmd, false)
	return cmd
}

func newRegistryShowCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "show NAME [VERSION]",
		Short: "Show a version with its files, scan, signature and history (default: the production version)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, reg, err := f.open(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			var v *registry.Version
			if len(args) == 2 {
				v, err = reg.Version(ctx, args[0], args[1])
			} else {
				v, err = productionOrNewest(ctx, reg, args[0])
			}
			if err != nil {
				return err
			}
			acts, err := reg.History(ctx, v.Name, v.Version)
			if err != nil {
				return err
			}
			evs := make(map[string]registry.Evidence, len(acts))
			for _, a := range acts {
				if evs[a.ID], err = reg.CheckAction(ctx, a); err != nil {
					return err
				}
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), versionView(v, acts, evs))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", v.Name, v.Version)
			return printVersion(cmd.OutOrStdout(), v, acts, evs)
		},
	}
	f.register(cmd, false)
	return cmd
}

// productionOrNewest returns the model's production version, or its
// newest when none is in production.
func productionOrNewest(ctx context.Context, reg *registry.Registry, name string) (*registry.Version, error) {
	vs, err := reg.Versions(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("model %s: %w", name, registry.ErrNotFound)
	}
	for _, v := range vs {
		if v.Stage == registry.StageProduction {
			return v, nil
		}
	}
	return vs[0], nil
}

func newRegistryPromoteCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "promote NAME VERSION --key FILE",
		Short: "Request the promotion of a version to production (another identity approves it)",
		Long: `Sign and record a request to promote VERSION to production. The version must
have a scan without high or critical findings and a verified signature.
Nothing is promoted yet: another identity approves the request with
'rampart registry approve', which promotes the version. While a request is
pending, promote is refused for want of an approval.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reg, err := f.openSigned(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer reg.Close()
			v, stmt, err := reg.version(ctx, registry.ActionPromote, args[0], args[1])
			if err != nil {
				return err
			}
			ss, err := reg.sign(stmt)
			if err != nil {
				return err
			}
			req, err := reg.RequestPromotion(ctx, ss)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), actionView(req, nil))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Requested the promotion of %s %s to production as %s (request %s).\n"+
				"It is promoted when an identity other than %s approves it:\n  rampart registry approve %s %s --key FILE\n",
				v.Name, v.Version, req.Actor, req.ID, req.Actor, v.Name, v.Version)
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

func newRegistryApproveCmd() *cobra.Command {
	var (
		f       registryFlags
		request string
	)
	cmd := &cobra.Command{
		Use:   "approve NAME VERSION --key FILE",
		Short: "Approve a pending promotion request, which promotes the version",
		Long: `Sign an approval of the pending promotion request of VERSION (or --request),
bound to the version's digest, and promote the version to production in
the same step; the version in production is retired. The approver must be
another identity than the requester.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reg, err := f.openSigned(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer reg.Close()
			v, stmt, err := reg.version(ctx, registry.ActionApprove, args[0], args[1])
			if err != nil {
				return err
			}
			if request == "" {
				acts, err := reg.History(ctx, v.Name, v.Version)
				if err != nil {
					return err
				}
				for _, a := range acts {
					if a.Kind == registry.KindRequest && a.State == registry.RequestPending {
						request = a.ID
					}
				}
			}
			if request == "" {
				return fmt.Errorf("%s %s has no pending promotion request (rampart registry promote %s %s)", v.Name, v.Version, v.Name, v.Version)
			}
			stmt.Request = request
			ss, err := reg.sign(stmt)
			if err != nil {
				return err
			}
			v, err = reg.Approve(ctx, ss)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), versionView(v, nil, nil))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Approved request %s: %s %s is in production", request, v.Name, v.Version)
			if v.Previous != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "; %s is retired (rampart registry rollback %s restores it)", v.Previous, v.Name)
			}
			fmt.Fprintln(cmd.OutOrStdout(), ".")
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&request, "request", "", "the request to approve (default the version's pending request)")
	return cmd
}

func newRegistryRollbackCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "rollback NAME --key FILE",
		Short: "Retire the production version and restore the one it replaced (no approval needed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reg, err := f.openSigned(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer reg.Close()
			cur, err := reg.Production(ctx, args[0])
			if err != nil {
				return err
			}
			version := ""
			if cur != nil {
				version = cur.Version
			} else if vs, err := reg.Versions(ctx, args[0]); err == nil && len(vs) > 0 {
				version = vs[0].Version // refused (and audited) by the registry: nothing in production
			} else {
				return fmt.Errorf("model %s: %w", args[0], registry.ErrNotFound)
			}
			ss, err := reg.sign(registry.Statement{Action: registry.ActionRollback, Model: args[0], Version: version})
			if err != nil {
				return err
			}
			res, err := reg.Rollback(ctx, ss)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]versionJSON{
					"retired": versionView(res.Retired, nil, nil), "restored": versionView(res.Restored, nil, nil),
				})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rolled back %s: %s is retired, %s is in production again.\n", args[0], res.Retired.Version, res.Restored.Version)
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

func newRegistryIdentityCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Register, rotate, remove and list the identities that sign registry actions",
	}
	cmd.AddCommand(newRegistryIdentityAddCmd(), newRegistryIdentityRotateCmd(), newRegistryIdentityRemoveCmd(), newRegistryIdentityListCmd())
	return cmd
}

func newRegistryIdentityAddCmd() *cobra.Command {
	var (
		f      registryFlags
		pubkey string
	)
	cmd := &cobra.Command{
		Use:   "add NAME --pubkey FILE",
		Short: "Bind an identity name to a public key (PEM, Ed25519 or ECDSA P-256)",
		Long: `Register the identity NAME with the public key in FILE (a PEM "PUBLIC KEY"
block, Ed25519 or ECDSA P-256). Registry actions signed with the matching
private key are performed as NAME. A name or a key is registered once:
separation of duties relies on one person holding one identity.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, err := readBounded(pubkey, registry.MaxKeyPEM)
			if err != nil {
				return fmt.Errorf("--pubkey: %w", err)
			}
			st, reg, err := f.open(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := reg.AddIdentity(ctx, args[0], b, registryAdmin)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), id)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Registered identity %s with %s key %s.\n", id.Name, id.Algorithm, id.KeyID)
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "the identity's public key (PEM file, required)")
	_ = cmd.MarkFlagRequired("pubkey")
	return cmd
}

// registryAdmin is the audit subject of identity administration from the
// command line: whoever can open the store administers the registry.
const registryAdmin = "cli"

func newRegistryIdentityRotateCmd() *cobra.Command {
	var (
		f      registryFlags
		pubkey string
		reason string
	)
	cmd := &cobra.Command{
		Use:   "rotate NAME --pubkey FILE [--reason TEXT]",
		Short: "Replace an identity's key; the old key is retired for good",
		Long: `Bind the identity NAME to the public key in FILE (a PEM "PUBLIC KEY" block,
Ed25519 or ECDSA P-256) instead of its current key, which is retired:
statements signed with a retired key are refused, a pending promotion
request signed with it can no longer be approved (it has to be made again
with the new key), and a retired key can never be registered again. Actions
signed with it before stay in the history and still verify against it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, err := readBounded(pubkey, registry.MaxKeyPEM)
			if err != nil {
				return fmt.Errorf("--pubkey: %w", err)
			}
			st, reg, err := f.open(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			prev, err := reg.Identity(ctx, args[0])
			if err != nil {
				return err
			}
			id, err := reg.RotateKey(ctx, args[0], b, registryAdmin, reason)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), id)
			}
			old := "its previous key"
			if prev != nil {
				old = prev.KeyID
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rotated the key of %s: %s key %s replaces %s, which is retired.\n"+
				"Pending promotion requests signed with the retired key must be made again.\n", id.Name, id.Algorithm, id.KeyID, old)
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "the identity's new public key (PEM file, required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the key is rotated (kept with the retired key)")
	_ = cmd.MarkFlagRequired("pubkey")
	return cmd
}

func newRegistryIdentityRemoveCmd() *cobra.Command {
	var (
		f      registryFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "remove NAME [--reason TEXT]",
		Short: "Remove an identity: it can no longer act",
		Long: `Remove the identity NAME: its statements are refused from now on, and its
pending promotion requests can no longer be approved (another identity has
to request the promotion again). The identity stays in the store, marked
removed, because its past actions name it: they still verify, and the name
cannot be registered again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, reg, err := f.open(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := reg.RemoveIdentity(ctx, args[0], registryAdmin, reason)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(cmd.OutOrStdout(), id)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed identity %s (key %s). Its pending promotion requests must be made again by another identity.\n", id.Name, id.KeyID)
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&reason, "reason", "", "why the identity is removed (kept in the audit record)")
	return cmd
}

// identityJSON is an identity as `identity list --format json` shows it:
// the record and the keys it held before.
type identityJSON struct {
	*registry.Identity
	RetiredKeyCount int                    `json:"retired_key_count"`
	RetiredKeys     []*registry.RetiredKey `json:"retired_keys"`
}

func newRegistryIdentityListCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered identities, removed ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, reg, err := f.open(ctx, registry.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			ids, err := reg.Identities(ctx)
			if err != nil {
				return err
			}
			keys, err := reg.RetiredKeys(ctx)
			if err != nil {
				return err
			}
			retired := map[string][]*registry.RetiredKey{}
			for _, k := range keys {
				retired[k.Name] = append(retired[k.Name], k)
			}
			out := cmd.OutOrStdout()
			if f.format == "json" {
				views := make([]identityJSON, 0, len(ids))
				for _, id := range ids {
					ks := retired[id.Name]
					if ks == nil {
						ks = []*registry.RetiredKey{}
					}
					views = append(views, identityJSON{Identity: id, RetiredKeyCount: len(ks), RetiredKeys: ks})
				}
				return writeJSON(out, views)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATUS\tALGORITHM\tKEY ID\tRETIRED KEYS\tKEY ADDED BY\tKEY ADDED")
			for _, id := range ids {
				status := "active"
				if id.Removed() {
					status = "removed " + id.RemovedAt.Format(time.RFC3339) + " by " + id.RemovedBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", id.Name, status, id.Algorithm, id.KeyID, len(retired[id.Name]),
					id.AddedBy, id.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	f.register(cmd, false)
	return cmd
}

// versionJSON is a version as the JSON output shows it: the record, the
// gate's verdict and, for show, its history.
type versionJSON struct {
	*registry.Version
	Promotable bool         `json:"promotable"`
	BlockedBy  string       `json:"blocked_by,omitempty"`
	Actions    []actionJSON `json:"actions,omitempty"`
}

// actionJSON is an action with its statement decoded for reading (the
// exact signed bytes stay in statement, base64).
type actionJSON struct {
	*registry.Action
	Signed json.RawMessage `json:"signed_statement"`
	// Evidence is the result of checking the signature again (show).
	Evidence *registry.Evidence `json:"evidence,omitempty"`
}

// actionView returns a's JSON view, with its evidence when ev is not nil.
func actionView(a *registry.Action, ev *registry.Evidence) actionJSON {
	v := actionJSON{Action: a, Evidence: ev}
	if json.Valid(a.Statement) {
		v.Signed = a.Statement
	}
	return v
}

// versionView returns v's JSON view with its actions and their evidence
// (by action id).
func versionView(v *registry.Version, acts []*registry.Action, evs map[string]registry.Evidence) versionJSON {
	out := versionJSON{Version: v, Promotable: true}
	if ref := registry.Gate(v); ref != nil {
		out.Promotable, out.BlockedBy = false, ref.Reason
	}
	for _, a := range acts {
		var ev *registry.Evidence
		if e, ok := evs[a.ID]; ok {
			ev = &e
		}
		out.Actions = append(out.Actions, actionView(a, ev))
	}
	return out
}

// evidenceNote renders the outcome of checking an action's signature for
// a history line.
func evidenceNote(ev registry.Evidence, ok bool) string {
	if !ok {
		return ""
	}
	if !ev.Verified {
		return "  NOT VERIFIED: " + ev.Error
	}
	note := "  (signature verified"
	if ev.KeyRetired {
		note += "; key since retired"
	}
	if ev.ActorRemoved {
		note += "; identity since removed"
	}
	return note + ")"
}

// printVersion writes a version's details as indented lines, the history
// with each action's evidence when evs has it.
func printVersion(w io.Writer, v *registry.Version, acts []*registry.Action, evs map[string]registry.Evidence) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var size int64
	for _, f := range v.Files {
		size += f.Size
	}
	fmt.Fprintf(tw, "  stage\t%s since %s\n", v.Stage, v.StageAt.Format(time.RFC3339))
	if v.Previous != "" {
		fmt.Fprintf(tw, "  previous\t%s\n", v.Previous)
	}
	fmt.Fprintf(tw, "  digest\t%s\n", v.Digest)
	fmt.Fprintf(tw, "  files\t%d (%d bytes)\n", len(v.Files), size)
	fmt.Fprintf(tw, "  scan\t%s\n", scanSummary(v.Scan, false))
	fmt.Fprintf(tw, "  signature\t%s\n", signatureSummary(v.Signature, false))
	if len(v.Lineage) > 0 {
		fmt.Fprintf(tw, "  lineage\t%s\n", strings.Join(v.Lineage, "; "))
	}
	fmt.Fprintf(tw, "  pushed\tby %s at %s\n", v.PushedBy, v.PushedAt.Format(time.RFC3339))
	if ref := registry.Gate(v); ref != nil {
		fmt.Fprintf(tw, "  promotable\tno: %s\n", ref.Reason)
	} else {
		fmt.Fprintf(tw, "  promotable\tyes\n")
	}
	for i, a := range acts {
		label := ""
		if i == 0 {
			label = "  history"
		}
		what := a.Kind
		switch {
		case a.Kind == registry.KindRequest:
			what = "promotion request " + a.ID + " (" + a.State + ")"
		case a.Kind == registry.KindApprove:
			what = "approval of " + a.Request
		}
		ev, ok := evs[a.ID]
		fmt.Fprintf(tw, "%s\t%s  %s by %s%s\n", label, a.CreatedAt.Format(time.RFC3339), what, a.Actor, evidenceNote(ev, ok))
	}
	return tw.Flush()
}

func scanSummary(s registry.Scan, short bool) string {
	switch {
	case s.Error != "" && short:
		return "none"
	case s.Error != "":
		return "none: " + s.Error
	case s.Findings == 0 && short:
		return "clean"
	case s.Findings == 0:
		return "no findings (" + s.Source + ")"
	case short:
		return fmt.Sprintf("%d, max %s", s.Findings, s.MaxSeverity)
	}
	return fmt.Sprintf("%d findings, highest %s (%s)", s.Findings, s.MaxSeverity, s.Source)
}

func signatureSummary(s registry.SignatureInfo, short bool) string {
	switch {
	case s.Verified && short:
		return "verified"
	case s.Verified && s.Signer != "":
		return "verified, signed by " + s.Signer
	case s.Verified:
		return "verified"
	case short:
		return "invalid"
	}
	return "not verified: " + s.Error
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// sha256Digest returns "sha256:" and the hex SHA-256 of b.
func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
