package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/archive"
	"github.com/rampartsec/rampart/scan/model/keras"
	"github.com/rampartsec/rampart/scan/model/pycode"
	"github.com/rampartsec/rampart/scan/model/skops"
)

// scanner scans the pieces of one file on disk: the file itself and,
// recursively, what its containers hold.
type scanner struct {
	ctx      context.Context
	opts     Options
	budget   int // pieces left
	limited  bool
	findings []finding.Finding
}

// piece is one thing to scan: a file on disk, an archive member or a
// decompressed stream.
type piece struct {
	name string      // as shown in findings: "dir/model.pt!archive/data.pkl"
	r    io.ReaderAt // its bytes
	size int64
	dir  string         // the folder on disk it lies in; "" inside containers
	lim  archive.Limits // for archives found in it; lim.Depth is its nesting depth
}

// add records what an analyser found in p.
func (s *scanner) add(p *piece, fs []finding.Finding) {
	for _, f := range fs {
		f.Location.Path = p.name
		if f.Detector == "" {
			f.Detector = "model"
		}
		s.findings = append(s.findings, f)
	}
}

func (s *scanner) own(p *piece, r *finding.Rule, off int64, excerpt, msg string) {
	s.findings = append(s.findings, fileFinding(r, p.name, off, excerpt, msg))
}

// take spends one unit of the piece budget; false once it is spent.
func (s *scanner) take(p *piece) bool {
	if s.budget <= 0 {
		if !s.limited {
			s.limited = true
			s.own(p, ruleLimit, 0, "", fmt.Sprintf("more than %d files and archive members; the rest were not scanned", s.opts.MaxFiles))
		}
		return false
	}
	s.budget--
	return true
}

func (s *scanner) file(j job) {
	p := &piece{name: j.path, dir: j.dir, lim: s.limits()}
	f, err := os.Open(j.abs)
	if err != nil {
		s.own(p, ruleUnreadable, 0, "", err.Error())
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.own(p, ruleUnreadable, 0, "", err.Error())
		return
	}
	p.r, p.size = f, st.Size()
	if j.code {
		s.code(p)
	}
	s.piece(p)
}

// code analyses Python source a model ships for trust_remote_code. A
// file over pycode.MaxSource is read no further than that and reported.
func (s *scanner) code(p *piece) {
	b := make([]byte, min(p.size, pycode.MaxSource+1))
	n, err := p.r.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		s.own(p, ruleUnreadable, int64(n), "", err.Error())
		return
	}
	s.add(p, pycode.Check(p.name, b[:n]))
}

// limits are the archive limits of a file on disk.
func (s *scanner) limits() archive.Limits {
	return archive.Limits{MaxDepth: s.opts.MaxDepth, MaxEntrySize: s.opts.MaxMemberBytes, MaxTotalSize: s.opts.MaxMemberBytes}
}

// piece sniffs p and hands it to its format's analyser.
func (s *scanner) piece(p *piece) {
	if s.ctx.Err() != nil || !s.take(p) {
		return
	}
	head := make([]byte, min(int64(sniffLen), p.size))
	if _, err := p.r.ReadAt(head, 0); err != nil && err != io.EOF {
		s.own(p, ruleUnreadable, 0, "", err.Error())
		return
	}
	format, af := Sniff(head, p.size)
	if format == Unknown && keras.IsH5(p.r, p.size) {
		format = HDF5 // a superblock after a user block
	}
	switch format {
	case Archive:
		switch af {
		case archive.Zip:
			s.archive(p, archive.WalkZip)
		case archive.Tar:
			s.archive(p, archive.WalkTar)
		default:
			if !af.Inspected() {
				s.add(p, []finding.Finding{archive.NotInspected(af)})
				break
			}
			s.archive(p, compressed(af))
		}
	case Zlib:
		s.archive(p, compressed(archive.Zlib))
	case Pickle:
		s.pickle(p, io.NewSectionReader(p.r, 0, p.size), 0, false)
		if safeName(p.name) {
			s.own(p, ruleDisguised, 0, "", "a pickle stream under the name of a format that cannot run code")
		}
	case NPY:
		s.npy(p)
	case GGUF:
		s.gguf(p)
	case HDF5:
		s.hdf5(p)
	case Safetensors:
		s.safetensors(p)
	case ONNX:
		s.onnx(p)
	case SavedModel:
		s.savedModel(p)
	case JSON:
		s.json(p)
	default:
		if !(probable(head) && s.pickle(p, io.NewSectionReader(p.r, 0, p.size), 0, true)) &&
			isModelName(p.name) && p.size > 0 && !hasZipEnd(p) {
			s.own(p, ruleUnrecognised, 0, "", "no model format recognised in the content")
		}
	}
	// A pickle or unknown content with a ZIP directory at its end is a
	// polyglot: zipfile-based loaders read the archive.
	if (format == Pickle || format == Unknown) && hasZipEnd(p) {
		s.archive(p, archive.WalkZip)
	}
}

// probable reports content that may be a pickle of protocol 0 or 1, which
// has no magic number: it opens with an opcode that can start a pickle.
func probable(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	switch head[0] {
	case '(', 'c', 'i', ']', '}', ')', 'N', 'I', 'L', 'F', 'S', 'V', 'X', 'U', 'T', 'J', 'K', 'M', 'G', 'B', 'C', 'q', 'r', 'p', 'g', 'h', 'j', '\x95':
		return true
	}
	return false
}

// hasZipEnd reports an end-of-central-directory record that lists
// entries in the last 64 KiB of p.
func hasZipEnd(p *piece) bool {
	const eocd = 22
	if p.size < eocd {
		return false
	}
	n := min(p.size, 65535+eocd)
	buf := make([]byte, n)
	if _, err := p.r.ReadAt(buf, p.size-n); err != nil && err != io.EOF {
		return false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	return i >= 0 && len(buf)-i >= eocd && binary.LittleEndian.Uint16(buf[i+10:]) > 0
}

// stream scans what r yields (a decompressed stream or an archive member
// of declared bytes, -1 when unknown) as a child piece of parent. A pickle
// is analysed as it streams; in probe mode it counts only if it imports
// something (members such as PyTorch's raw tensor data may start like a
// pickle by chance). Other formats are spooled to memory or a temporary
// file first, since their analysers read at offsets; content in no format
// at all (raw tensor data) is never read past its first bytes.
func (s *scanner) stream(parent *piece, name string, declared int64, lim archive.Limits, r io.Reader, probe bool) {
	child := &piece{name: name, lim: lim}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		if !errors.Is(err, archive.ErrLimit) {
			s.own(child, ruleUnreadable, 0, "", err.Error())
		}
		return
	}
	size := declared
	if size < int64(n) || n < sniffLen && size != int64(n) {
		size = -1
		if n < sniffLen {
			size = int64(n)
		}
	}
	format, _ := Sniff(head, size)
	rest := io.MultiReader(bytes.NewReader(head), r)
	switch {
	case format == Pickle:
		if s.take(child) {
			s.pickle(child, rest, 0, probe)
		}
		return
	case format == Unknown && !probable(head):
		if isModelName(name) && n > 0 {
			s.own(child, ruleUnrecognised, 0, "", "no model format recognised in the content")
		}
		return
	case format == Unknown:
		if s.take(child) && !s.pickle(child, rest, 0, true) && isModelName(name) {
			s.own(child, ruleUnrecognised, 0, "", "no model format recognised in the content")
		}
		return
	}
	sp, cleanup, truncated, err := spool(rest, s.opts)
	if err != nil {
		if !errors.Is(err, archive.ErrLimit) {
			s.own(child, ruleUnreadable, 0, "", err.Error())
		}
		return
	}
	defer cleanup()
	if truncated {
		s.own(child, ruleLimit, s.opts.MaxMemberBytes, "", fmt.Sprintf("more than %d bytes; only the first were scanned", s.opts.MaxMemberBytes))
	}
	child.r, child.size = sp.r, sp.size
	s.piece(child)
}

// spooled is content held in memory or in a temporary file.
type spooled struct {
	r    io.ReaderAt
	size int64
}

// memLimit is the size up to which spool keeps content in memory.
const memLimit = 64 << 20

// spool copies r (up to opts.MaxMemberBytes) to memory, or past memLimit
// to a temporary file removed by cleanup.
func spool(r io.Reader, opts Options) (spooled, func(), bool, error) {
	buf, err := io.ReadAll(io.LimitReader(r, memLimit+1))
	if err != nil {
		return spooled{}, nil, false, err
	}
	if len(buf) <= memLimit {
		return spooled{bytes.NewReader(buf), int64(len(buf))}, func() {}, false, nil
	}
	f, err := os.CreateTemp(opts.TempDir, "rampart-scan-*")
	if err != nil {
		return spooled{}, nil, false, fmt.Errorf("spool a large member: %w", err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	fail := func(err error) (spooled, func(), bool, error) {
		cleanup()
		return spooled{}, nil, false, fmt.Errorf("spool a large member: %w", err)
	}
	if _, err := f.Write(buf); err != nil {
		return fail(err)
	}
	n, err := io.Copy(f, io.LimitReader(r, opts.MaxMemberBytes-int64(len(buf))))
	if err != nil {
		return fail(err)
	}
	size := int64(len(buf)) + n
	var one [1]byte
	k, _ := io.ReadFull(r, one[:])
	return spooled{f, size}, cleanup, k > 0, nil
}

// jsonLimit caps the size of a JSON document the scanner parses.
const jsonLimit = 64 << 20

// json checks JSON documents that configure models: Keras model configs
// (Lambda layers, callables outside Keras), tokenizer configs (chat
// templates) and Transformers configs (auto_map to shipped code).
func (s *scanner) json(p *piece) {
	if p.size > jsonLimit {
		return
	}
	b := make([]byte, p.size)
	if _, err := p.r.ReadAt(b, 0); err != nil && err != io.EOF {
		s.own(p, ruleUnreadable, 0, "", err.Error())
		return
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return // not an object, or not JSON after all: nothing a loader runs
	}
	if skops.IsSchema(top) {
		s.add(p, skops.Scan(b, s.opts.AllowGlobals))
	}
	if _, ok := top["class_name"]; ok {
		s.add(p, scanKerasConfig(b))
	} else if raw, ok := top["config"]; ok && (top["keras_version"] != nil || top["backend"] != nil) {
		s.add(p, scanKerasConfig(raw))
	}
	if raw, ok := top["chat_template"]; ok {
		s.chatTemplates(p, raw)
	}
	if raw, ok := top["auto_map"]; ok {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil && len(m) > 0 {
			var refs []string
			for k, v := range m {
				refs = append(refs, k+"="+strings.Trim(string(v), `"`))
			}
			slices.Sort(refs)
			s.own(p, ruleRemoteCode, 0, strings.Join(refs, ", "), "loading this model with trust_remote_code=True runs the Python files it names")
		}
	}
}

// chatTemplates checks a tokenizer config's chat_template: one string, or
// a list of {"name", "template"} objects.
func (s *scanner) chatTemplates(p *piece, raw json.RawMessage) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		s.add(p, checkTemplate(one))
		return
	}
	var many []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			s.add(p, checkTemplate(t.Template))
		}
	}
}
