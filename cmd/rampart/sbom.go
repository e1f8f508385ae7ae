package main

import (
	"bufio"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/artifact/keys"
	"github.com/rampartsec/rampart/artifact/sign"
	"github.com/rampartsec/rampart/sbom"
)

func newSBOMCmd() *cobra.Command {
	var (
		out     string
		pubkeys []string
		chain   []string
	)
	cmd := &cobra.Command{
		Use:   "sbom PATH [-o FILE] [--pubkey PEM]... [--cert-chain PEM]...",
		Short: "Write the CycloneDX 1.6 AI bill of materials of a repository",
		Long: `Write a CycloneDX 1.6 JSON AI-BOM of PATH (a folder or a single file):

  - library components for every package its manifests and lockfiles name
    (the files rampart scan deps reads), with package URLs, hashes and
    scope (development dependencies are optional); the project depends on
    the packages the files mark as direct;
  - machine-learning-model components for the model files found by
    content (pickle, PyTorch, safetensors, GGUF, ONNX, Keras, HDF5,
    SavedModel, NumPy), with SHA-256 and SHA-512, size, format, the status
    of an OpenSSF model signature (model.sig beside or above the file:
    verified with --pubkey or --cert-chain, unverified, invalid or
    unsigned) and the result of rampart scan model (highest severity,
    number of findings);
  - data components for datasets described by a Hugging Face dataset card
    (README.md front matter), a Frictionless datapackage.json or an
    MLCommons Croissant file, with licence and the local data files hashed.

Files that cannot be read are listed as rampart:warning properties of the
BOM's metadata. See docs/sbom.md.

Exit status: 0 the BOM was written, 2 an error (PATH missing, a bad key).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("sbom takes one PATH, a folder or a file (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts sbom.Options
			for _, p := range pubkeys {
				k, err := keys.LoadPublic(p)
				if err != nil {
					return usageError("--pubkey: %v", err)
				}
				v, err := sign.NewKeyVerifier(k)
				if err != nil {
					return usageError("--pubkey %s: %v", p, err)
				}
				opts.Verifiers = append(opts.Verifiers, v)
			}
			if len(chain) > 0 {
				var certs []*x509.Certificate
				for _, p := range chain {
					data, err := readBounded(p, 1<<20)
					if err != nil {
						return usageError("--cert-chain: %v", err)
					}
					cs, err := sign.ParseCertificates(data)
					if err != nil {
						return usageError("--cert-chain %s: %v", p, err)
					}
					certs = append(certs, cs...)
				}
				cv, err := sign.NewCertVerifier(certs)
				if err != nil {
					return usageError("--cert-chain: %v", err)
				}
				opts.Verifiers = append(opts.Verifiers, cv)
			}
			if _, err := os.Stat(args[0]); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("sbom: %w", err)}
			}
			bom, err := sbom.Generate(cmd.Context(), args[0], opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if out == "" || out == "-" {
				w := bufio.NewWriter(cmd.OutOrStdout())
				if err := sbom.Write(w, bom); err != nil {
					return &exitError{code: 2, err: err}
				}
				if err := w.Flush(); err != nil {
					return &exitError{code: 2, err: err}
				}
				return nil
			}
			if err := writeFileAtomic(out, func(w *bufio.Writer) error { return sbom.Write(w, bom) }); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("-o: %w", err)}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the BOM to this file instead of standard output")
	cmd.Flags().StringArrayVar(&pubkeys, "pubkey", nil, "public key PEM file that model signatures are verified with (repeatable)")
	cmd.Flags().StringArrayVar(&chain, "cert-chain", nil, "trusted certificate PEM file (repeatable), for certificate-signed models")
	return cmd
}

// writeFileAtomic writes a file through a temporary file renamed into
// place, so that a failed run leaves no half-written file.
func writeFileAtomic(path string, write func(*bufio.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	if err := write(w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
