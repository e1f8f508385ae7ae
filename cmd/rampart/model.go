package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/artifact/encrypt"
	"github.com/rampartsec/rampart/artifact/encrypt/vaulttransit"
	"github.com/rampartsec/rampart/artifact/keys"
	"github.com/rampartsec/rampart/artifact/sign"
)

func newKeygenCmd() *cobra.Command {
	var typ, out string
	cmd := &cobra.Command{
		Use:   "keygen --type ed25519|ecdsa-p256|kek --out PREFIX",
		Short: "Make a model signing key pair or a key-encryption key",
		Long: `Make a key for the model commands.

  --type ecdsa-p256 or ed25519 writes PREFIX.key (PKCS#8 PEM, mode 0600) and
  PREFIX.pub (PKIX PEM) for rampart model sign and verify. ECDSA P-256
  signatures verify with the OpenSSF model_signing tools; Ed25519 ones are
  signed the same way but not every Sigstore verifier accepts Ed25519.

  --type kek writes PREFIX.kek (mode 0600): 32 random bytes in base64, the
  key-encryption key of rampart model encrypt --kek file:PREFIX.kek.

Existing files are never overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out PREFIX is required")
			}
			w := cmd.OutOrStdout()
			if typ == "kek" {
				text, err := encrypt.NewKEKText()
				if err != nil {
					return err
				}
				p := out + ".kek"
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				if _, err := f.WriteString(text); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(w, "Wrote key-encryption key %s (keep it secret; use --kek file:%s).\n", p, p)
				return nil
			}
			k, err := keys.Generate(keys.Type(typ))
			if err != nil {
				return usageError("%v", err)
			}
			priv, pub, err := keys.WritePair(out, k)
			if err != nil {
				return err
			}
			hint, err := keys.Hint(k.Public())
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "Wrote %s private key %s (keep it secret) and public key %s.\nKey hint (SHA-256 of the public key PEM): %s\n", typ, priv, pub, hint)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", string(keys.ECDSAP256), "key type: ecdsa-p256, ed25519, or kek")
	f.StringVar(&out, "out", "", "path prefix of the files to write (required)")
	return cmd
}

func newModelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Sign, verify, encrypt and decrypt model artifacts",
		Long: `Protect model weights: sign a model folder and verify it (OpenSSF model
signing format, a Sigstore bundle in model.sig), and encrypt weights at rest
(chunked AES-256-GCM, a random data key per file wrapped by a key-encryption
key).`,
	}
	cmd.AddCommand(newModelSignCmd(), newModelVerifyCmd(), newModelEncryptCmd(), newModelDecryptCmd())
	return cmd
}

// signFlags are the manifest options shared by sign and verify.
type signFlags struct {
	opts sign.Options
}

func (s *signFlags) register(cmd *cobra.Command, signing bool) {
	f := cmd.Flags()
	f.StringVar(&s.opts.SignaturePath, "signature", "", "signature file (default MODEL/model.sig, or model.sig beside a single-file model)")
	f.StringSliceVar(&s.opts.IgnorePaths, "ignore-paths", nil, "paths relative to the model to leave out, e.g. README.md,logs/")
	f.BoolVar(&s.opts.IncludeGitPaths, "include-git", false, "also cover .git, .gitattributes, .github and .gitignore")
	f.IntVar(&s.opts.Workers, "workers", 0, "files hashed at once (default: the number of CPUs)")
	if signing {
		f.BoolVar(&s.opts.AllowSymlinks, "allow-symlinks", false, "sign symbolic links to files by their target's content (default: refuse them)")
	}
}

func newModelSignCmd() *cobra.Command {
	var sf signFlags
	var keyPath string
	cmd := &cobra.Command{
		Use:   "sign MODEL --key KEY",
		Short: "Sign every file of a model folder (or one model file) into model.sig",
		Long: `Hash every file of MODEL with SHA-256 (in parallel, streamed) and sign the
manifest with a private key (PKCS#8 or SEC1 PEM: ECDSA P-256/P-384/P-521 or
Ed25519; make one with rampart keygen). The signature is written to
MODEL/model.sig in the OpenSSF model signing format: a Sigstore bundle v0.3
holding a DSSE-signed in-toto statement that lists every file and digest.
git files, the signature itself and --ignore-paths are left out and recorded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usageError("--key is required")
			}
			k, err := keys.LoadPrivate(keyPath)
			if err != nil {
				return usageError("%v", err)
			}
			s, err := sign.NewKeySigner(k)
			if err != nil {
				return usageError("%v", err)
			}
			model := args[0]
			if sf.opts.SignaturePath == "" {
				sf.opts.SignaturePath = sign.SignaturePathFor(model)
			}
			b, m, err := sign.Sign(cmd.Context(), model, s, sf.opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if err := sign.WriteSignature(sf.opts.SignaturePath, b); err != nil {
				return &exitError{code: 2, err: err}
			}
			hint, _ := keys.Hint(k.Public())
			fmt.Fprintf(cmd.OutOrStdout(), "Signed %d file(s) of %s with %s key %s into %s\n",
				len(m.Items), m.ModelName, keys.Describe(k.Public()), hint, sf.opts.SignaturePath)
			return nil
		},
	}
	sf.register(cmd, true)
	cmd.Flags().StringVar(&keyPath, "key", "", "private key PEM file (required)")
	return cmd
}

func newModelVerifyCmd() *cobra.Command {
	var sf signFlags
	var vf verifierFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify MODEL (--pubkey KEY | --cert-chain PEM...)",
		Short: "Check a model against its signature; name every added, removed or modified file",
		Long: `Verify MODEL/model.sig (or --signature) with a public key, or with the
certificates that anchor a certificate-signed model (--cert-chain, PEM,
repeatable), then hash the model and report every file added, removed or
modified since it was signed. Paths the signature records as ignored are
honoured; --ignore-paths adds more (as model_signing's --ignore-paths).

Reads signatures of the OpenSSF model_signing tools 0.2 to 1.1 made with a
key or a certificate chain; keyless Sigstore signatures are not verified yet.

Exit status: 0 when the signature holds and the model is unchanged, 1 when
the signature is bad or the model changed, 2 when it could not be checked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := vf.verifier()
			if err != nil {
				return err
			}
			res, err := sign.VerifyFile(cmd.Context(), args[0], v, sf.opts)
			out := cmd.OutOrStdout()
			if err != nil {
				if errors.Is(err, sign.ErrSignature) {
					if asJSON {
						writeJSON(out, map[string]any{"ok": false, "error": err.Error()})
					} else {
						fmt.Fprintln(out, "FAILED: bad signature")
					}
					return &exitError{code: 1, err: err}
				}
				return &exitError{code: 2, err: err}
			}
			if asJSON {
				changes := make([]map[string]string, 0, len(res.Changes))
				for _, c := range res.Changes {
					changes = append(changes, map[string]string{"change": c.Kind.String(), "name": c.Name})
				}
				writeJSON(out, map[string]any{
					"ok": res.OK(), "format": res.Format, "signer": res.Signer,
					"model": res.ModelName, "files": res.Files, "changes": changes,
				})
			} else {
				for _, c := range res.Changes {
					fmt.Fprintf(out, "%-8s  %s\n", c.Kind, c.Name)
				}
				if res.OK() {
					fmt.Fprintf(out, "OK: %d file(s) match the signature by %s (%s)\n", res.Files, res.Signer, res.Format)
				} else {
					fmt.Fprintf(out, "FAILED: the signature by %s holds, but %d file(s) changed\n", res.Signer, len(res.Changes))
				}
			}
			if !res.OK() {
				return &exitError{code: 1, err: errSilent}
			}
			return nil
		},
	}
	sf.register(cmd, false)
	vf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// verifierFlags choose what a model signature must verify with: the
// signer's public key or a trusted certificate chain.
type verifierFlags struct {
	pubPath string
	chain   []string
}

func (f *verifierFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.pubPath, "pubkey", "", "public key PEM file of the signer")
	cmd.Flags().StringArrayVar(&f.chain, "cert-chain", nil, "trusted certificate PEM file (repeatable), for certificate-signed models")
}

// given reports whether a key or a chain was named.
func (f *verifierFlags) given() bool { return f.pubPath != "" || len(f.chain) > 0 }

// verifier builds the signature verifier the flags name.
func (f *verifierFlags) verifier() (sign.Verifier, error) {
	switch {
	case f.pubPath != "" && len(f.chain) > 0:
		return nil, usageError("give --pubkey or --cert-chain, not both")
	case f.pubPath != "":
		k, err := keys.LoadPublic(f.pubPath)
		if err != nil {
			return nil, usageError("%v", err)
		}
		kv, err := sign.NewKeyVerifier(k)
		if err != nil {
			return nil, usageError("%v", err)
		}
		return kv, nil
	case len(f.chain) > 0:
		var certs []*x509.Certificate
		for _, p := range f.chain {
			data, err := readBounded(p, 1<<20)
			if err != nil {
				return nil, usageError("%v", err)
			}
			cs, err := sign.ParseCertificates(data)
			if err != nil {
				return nil, usageError("%s: %v", p, err)
			}
			certs = append(certs, cs...)
		}
		cv, err := sign.NewCertVerifier(certs)
		if err != nil {
			return nil, usageError("%v", err)
		}
		return cv, nil
	}
	return nil, usageError("--pubkey or --cert-chain is required")
}

func newModelEncryptCmd() *cobra.Command {
	var kekRef, kekID, out string
	var chunk int
	cmd := &cobra.Command{
		Use:   "encrypt FILE --kek file:PATH|env:NAME|vault:…|vault-transit:… [--out FILE.enc]",
		Short: "Encrypt a weights file at rest (streaming AES-256-GCM)",
		Long: `Encrypt FILE into FILE.enc (or --out) in constant memory: a random 256-bit data
key per file, wrapped by the key-encryption key --kek (file:PATH, env:NAME or
vault:MOUNT/PATH#FIELD holding 32 bytes as base64, 64 hex digits or raw;
rampart keygen --type kek makes one; or vault-transit:MOUNT/KEY, which wraps
the data key with Vault's Transit engine so the KEK never leaves Vault), and
chunks sealed with AES-256-GCM so that any change,
truncation or reordering is detected. See docs/model/encryption.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kek, err := loadKEK(cmd, kekRef, kekID)
			if err != nil {
				return err
			}
			if out == "" {
				out = args[0] + ".enc"
			}
			if err := encrypt.EncryptFile(cmd.Context(), args[0], out, kek, encrypt.Options{ChunkSize: chunk}); err != nil {
				return &exitError{code: 2, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Encrypted %s into %s with KEK %q\n", args[0], out, kek.ID())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kekRef, "kek", "", "key-encryption key: file:PATH, env:NAME, vault:MOUNT/PATH#FIELD, or vault-transit:MOUNT/KEY to wrap with Vault Transit (required)")
	f.StringVar(&kekID, "kek-id", "", "name of the KEK recorded in the header (default: the --kek reference)")
	f.StringVar(&out, "out", "", "output file (default FILE.enc)")
	f.IntVar(&chunk, "chunk-size", encrypt.DefaultChunkSize, "plaintext bytes per chunk (1 KiB to 16 MiB)")
	return cmd
}

func newModelDecryptCmd() *cobra.Command {
	var kekRef, out string
	cmd := &cobra.Command{
		Use:   "decrypt FILE.enc --kek file:PATH|env:NAME [--out FILE | --out -]",
		Short: "Decrypt a weights file; nothing is released unless every chunk authenticates",
		Long: `Decrypt FILE.enc into FILE (or --out). The plaintext goes to a temporary file
that is renamed into place only after the final chunk authenticated; on any
failure nothing is left behind. With --out - the plaintext streams to
standard output chunk by chunk as each authenticates: if a later chunk
fails, the command exits 1 and what was written must be discarded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kek, err := loadKEK(cmd, kekRef, "")
			if err != nil {
				return err
			}
			src := args[0]
			if out == "" {
				var ok bool
				if out, ok = strings.CutSuffix(src, ".enc"); !ok || out == "" {
					return usageError("%s does not end in .enc; name the output with --out", src)
				}
			}
			fail := func(err error) error {
				if encrypt.IsAuthError(err) || errors.Is(err, encrypt.ErrFormat) {
					return &exitError{code: 1, err: err}
				}
				return &exitError{code: 2, err: err}
			}
			if out == "-" {
				in, err := os.Open(src)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer in.Close()
				r, err := encrypt.NewReader(cmd.Context(), in, kek)
				if err != nil {
					return fail(err)
				}
				n, err := r.WriteTo(cmd.OutOrStdout())
				if err != nil {
					return fail(fmt.Errorf("%w; %d byte(s) already written to standard output are NOT authentic as a whole: discard them", err, n))
				}
				return nil
			}
			if err := encrypt.DecryptFile(cmd.Context(), src, out, kek); err != nil {
				return fail(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Decrypted %s into %s\n", src, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kekRef, "kek", "", "key-encryption key: file:PATH, env:NAME, vault:MOUNT/PATH#FIELD, or vault-transit:MOUNT/KEY to wrap with Vault Transit (required)")
	f.StringVar(&out, "out", "", "output file, or - for standard output (default: FILE.enc without .enc)")
	return cmd
}

func loadKEK(cmd *cobra.Command, ref, id string) (encrypt.KeyWrapper, error) {
	if ref == "" {
		return nil, usageError("--kek file:PATH, env:NAME, vault:MOUNT/PATH#FIELD or vault-transit:MOUNT/KEY is required")
	}
	if strings.HasPrefix(ref, vaulttransit.Scheme) {
		k, err := vaulttransit.Parse(ref, id)
		if err != nil {
			return nil, usageError("%v", err)
		}
		return k, nil
	}
	k, err := encrypt.ParseKEK(cmd.Context(), ref, id)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return k, nil
}
