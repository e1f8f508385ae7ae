package model

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/archive"
	"github.com/rampartsec/rampart/scan/model/gguf"
	"github.com/rampartsec/rampart/scan/model/keras"
	"github.com/rampartsec/rampart/scan/model/npy"
	"github.com/rampartsec/rampart/scan/model/onnx"
	"github.com/rampartsec/rampart/scan/model/pickle"
	"github.com/rampartsec/rampart/scan/model/pycode"
	"github.com/rampartsec/rampart/scan/model/safetensors"
	"github.com/rampartsec/rampart/scan/model/savedmodel"
	"github.com/rampartsec/rampart/scan/model/skops"
	"github.com/rampartsec/rampart/scan/model/template"
)

// Rules lists every rule `rampart scan model` can report.
func Rules() []finding.Rule {
	var out []finding.Rule
	for _, rs := range [][]*finding.Rule{ownRules(), pickle.Rules(), npy.Rules()} {
		for _, r := range rs {
			out = append(out, *r)
		}
	}
	for _, rs := range [][]finding.Rule{archive.Rules(), safetensors.Rules(), gguf.Rules(), template.Rules(),
		keras.Rules(), savedmodel.Rules(), onnx.Rules(), pycode.Rules(), skops.Rules()} {
		out = append(out, rs...)
	}
	return out
}

// pickle scans a pickle stream read from r, whose first byte lies at base
// in p. In probe mode (content that merely may be a pickle) nothing is
// reported unless the stream imports something or is a complete, clean
// pickle: without an import, malformed bytes mean "not a pickle". It reports whether the content was
// taken as a pickle.
func (s *scanner) pickle(p *piece, r io.Reader, base int64, probe bool) bool {
	res, err := pickle.Scan(r, pickle.Options{Offset: base, Allow: s.opts.AllowGlobals})
	if err != nil {
		s.own(p, ruleUnreadable, base, "", err.Error())
		return true
	}
	if probe && !importsIdentifier(res) && (res.Pickles == 0 || len(res.Findings) > 0) {
		return false
	}
	s.add(p, res.Findings)
	return true
}

// importsIdentifier reports whether the stream imports a global spelled
// as Python spells one: text such as a Python source file ("import os")
// probes as INST of a "module" with a space in it.
func importsIdentifier(res *pickle.Result) bool {
	for _, g := range res.Globals {
		if pickle.Dotted(g.Module) && (g.Name == "" || pickle.Dotted(g.Name)) {
			return true
		}
	}
	return false
}

// npy checks a .npy header and, for an object array, the pickle after it.
func (s *scanner) npy(p *piece) {
	h, fs, err := npy.Parse(p.r, p.size)
	s.add(p, fs)
	if err != nil {
		s.own(p, ruleUnreadable, 0, "", err.Error())
		return
	}
	if h != nil && h.HasObject {
		s.pickle(p, io.NewSectionReader(p.r, h.DataOffset, p.size-h.DataOffset), h.DataOffset, false)
	}
}

func (s *scanner) gguf(p *piece) {
	s.report(p, func() ([]finding.Finding, error) {
		_, fs, err := gguf.Scan(s.ctx, p.r, p.size, gguf.Limits{})
		return fs, err
	})
}

func (s *scanner) hdf5(p *piece) {
	s.report(p, func() ([]finding.Finding, error) { return keras.ScanH5(p.r, p.size) })
}

func (s *scanner) onnx(p *piece) {
	s.report(p, func() ([]finding.Finding, error) { return onnx.Scan(p.r, p.size, p.dir) })
}

func (s *scanner) savedModel(p *piece) {
	s.report(p, func() ([]finding.Finding, error) { return savedmodel.Scan(p.r, p.size) })
}

func (s *scanner) safetensors(p *piece) {
	s.report(p, func() ([]finding.Finding, error) {
		_, fs, err := safetensors.Scan(p.r, p.size)
		return fs, err
	})
}

// report adds what an analyser found; its error means p could not be read.
func (s *scanner) report(p *piece, run func() ([]finding.Finding, error)) {
	fs, err := run()
	s.add(p, fs)
	if err != nil {
		s.own(p, ruleUnreadable, 0, "", err.Error())
	}
}

func scanKerasConfig(b []byte) []finding.Finding { return keras.ScanConfig(b) }
func checkTemplate(t string) []finding.Finding   { return template.Check(t) }

type walker func(ctx context.Context, r io.ReaderAt, size int64, lim archive.Limits, fn func(archive.Entry) error) ([]finding.Finding, error)

// compressed walks a compressed stream (gzip, zlib, bzip2, xz, LZMA, zstd,
// LZ4) as an archive of one member named for the compression, within the
// archive limits (ratio included, so a compression bomb stops).
func compressed(f archive.Format) walker {
	return func(ctx context.Context, r io.ReaderAt, size int64, lim archive.Limits, fn func(archive.Entry) error) ([]finding.Finding, error) {
		return archive.WalkCompressed(ctx, r, size, f, lim, func(e archive.Entry) error {
			if e.Name == "" {
				e.Name = f.String()
			}
			return fn(e)
		})
	}
}

// archive walks the ZIP or tar archive p and scans every member.
func (s *scanner) archive(p *piece, walk walker) {
	fs, err := walk(s.ctx, p.r, p.size, p.lim, func(e archive.Entry) error {
		if e.Link || e.Encrypted {
			return nil // reported by the walk
		}
		name := p.name + "!" + e.Name
		rc, err := e.Open()
		if err != nil {
			if !errors.Is(err, archive.ErrLimit) {
				s.own(&piece{name: name}, ruleUnreadable, 0, "", err.Error())
			}
			return nil
		}
		defer rc.Close()
		s.stream(p, name, e.Size, e.Nested(), rc, !isPickleName(e.Name))
		return s.ctx.Err()
	})
	s.add(p, fs)
	if err != nil && !errors.Is(err, archive.ErrNotZip) && s.ctx.Err() == nil {
		s.own(p, ruleUnreadable, 0, "", fmt.Sprintf("archive: %v", err))
	}
}
