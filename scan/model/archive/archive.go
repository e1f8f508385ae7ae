// Package archive walks the containers model files come in — ZIP (PyTorch
// checkpoints, NumPy .npz, Keras .keras, joblib bundles) and tar (legacy
// PyTorch checkpoints) — tolerantly and within limits, so that a scanner sees
// every member a loader could read and a hostile file becomes findings
// rather than a crash, a hang or an allocation the header merely declares.
//
// The ZIP reader is deliberately more tolerant than archive/zip: PyTorch's
// loader (miniz) and Python's zipfile accept files a strict reader rejects,
// and each such difference has been used to hide a pickle from scanners. It
// reads the central directory and the local file headers, and searches the
// bytes no entry accounts for for further local headers, so that an entry
// missing from a damaged central directory is still seen. It ignores the
// encryption and patch flag bits when the data is not really encrypted,
// ignores CRC mismatches (reporting them), and reports local-versus-central
// name mismatches, duplicate names, path traversal, symbolic links, encrypted
// entries, overlapping entries, prefixed data and unsupported compression
// methods. Store and deflate are decompressed; other methods are reported as
// not inspected.
//
// Every walk is bounded by [Limits]: the number of entries, the bytes one
// entry may yield, the bytes all entries together may yield, the compression
// ratio and the nesting depth. An entry's reader yields at most its limit
// whatever its header declares.
package archive

import (
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Detector is the value of Finding.Detector for findings of this package.
const Detector = "model.archive"

// The defaults of [Limits].
const (
	DefaultMaxEntries   = 100_000
	DefaultMaxEntrySize = 1 << 30 // 1 GiB
	DefaultMaxTotalSize = 8 << 30 // 8 GiB
	DefaultMaxRatio     = 200
	DefaultMaxDepth     = 3
	// DefaultMaxDictionary bounds the history a decoder keeps: the LZMA
	// dictionary of xz and .lzma streams and the zstd window. 128 MiB is
	// twice the largest xz preset's dictionary (-9, 64 MiB) and the zstd
	// command's own default decoding limit.
	DefaultMaxDictionary = 128 << 20
	// RatioFloor is the uncompressed size below which the compression
	// ratio is not judged: small entries of repeated bytes compress far
	// beyond any sensible ratio without being a bomb.
	RatioFloor = 1 << 20
)

// Limits bounds a walk. A zero field takes its default.
type Limits struct {
	// MaxEntries is the number of entries a walk yields; entries past it
	// are reported, not yielded (default 100,000).
	MaxEntries int
	// MaxEntrySize is the number of bytes an entry's reader yields (default
	// 1 GiB). An entry that declares more is reported, and its reader stops
	// with ErrLimit at the limit.
	MaxEntrySize int64
	// MaxTotalSize is the number of bytes all the readers of a walk yield
	// together, nested walks included when they use Entry.Nested (default
	// 8 GiB).
	MaxTotalSize int64
	// MaxRatio is the largest uncompressed/compressed ratio accepted for an
	// entry larger than RatioFloor (default 200); deflate cannot exceed
	// about 1,032, and real tensors rarely exceed 10.
	MaxRatio int64
	// MaxDepth is the deepest nesting of archives walked (default 3): the
	// file itself is depth 0, an archive inside it depth 1, and so on.
	MaxDepth int
	// MaxDictionary is the most memory a decoder keeps as history: the
	// LZMA dictionary of xz and .lzma streams and the zstd window
	// (default 128 MiB). xz and .lzma streams are decoded with at most
	// this dictionary whatever their headers declare (a header may declare
	// 4 GiB); data that really refers further back, or a zstd frame with a
	// larger window, is reported as a limit and not inspected further.
	MaxDictionary int64
	// Depth is the nesting depth of the archive being walked; Entry.Nested
	// sets it for an archive found inside an entry.
	Depth int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:    DefaultMaxEntries,
		MaxEntrySize:  DefaultMaxEntrySize,
		MaxTotalSize:  DefaultMaxTotalSize,
		MaxRatio:      DefaultMaxRatio,
		MaxDepth:      DefaultMaxDepth,
		MaxDictionary: DefaultMaxDictionary,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = d.MaxEntrySize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = d.MaxTotalSize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxDictionary <= 0 {
		l.MaxDictionary = d.MaxDictionary
	}
	if l.Depth < 0 {
		l.Depth = 0
	}
	return l
}

// Errors returned by entry readers and walks.
var (
	// ErrLimit is returned by an entry's reader when a limit stops it
	// before the end of the entry: the bytes read so far are what the
	// limit allowed. A compressed entry whose content this package does
	// not decode (an xz filter other than LZMA2) stops with it too. Either
	// way the walk's findings say why.
	ErrLimit = errors.New("archive: limit reached")
	// ErrEncrypted is returned by Open for an encrypted entry.
	ErrEncrypted = errors.New("archive: entry is encrypted")
	// ErrMethod is returned by Open for an entry compressed with a method
	// other than store and deflate.
	ErrMethod = errors.New("archive: unsupported compression method")
	// ErrNotZip is returned by WalkZip for input with neither an end of
	// central directory record nor a local file header.
	ErrNotZip = errors.New("archive: not a zip file")
	// ErrClosed is returned by reads from an entry reader after Close, and
	// by Open on a tar entry whose turn has passed.
	ErrClosed = errors.New("archive: entry reader closed")
)

var family = finding.Family{
	Name:        "model.archive",
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this file; obtain the model from a trusted source in a format without code execution (safetensors) or re-export it with a standard writer.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010", "AML.T0018"},
		CWE:   []string{"CWE-502"},
	},
}

// The rules of this package.
var (
	RuleEncrypted        = family.Rule("encrypted", "Encrypted archive entry cannot be inspected", finding.Medium)
	RuleFlagEvasion      = family.Rule("flag-evasion", "Entry flag bits make strict readers refuse data that loaders still read", finding.High)
	RuleCRC              = family.Rule("crc-mismatch", "Entry data does not match its CRC-32", finding.Medium)
	RuleNameMismatch     = family.Rule("name-mismatch", "Local header and central directory name an entry differently", finding.High)
	RuleDuplicate        = family.Rule("duplicate-name", "Two entries have the same name", finding.High)
	RulePathTraversal    = family.Rule("path-traversal", "Entry name escapes the extraction directory", finding.High)
	RuleSymlink          = family.Rule("symlink", "Entry is a symbolic or hard link", finding.Medium)
	RuleMethod           = family.Rule("unsupported-method", "Entry compressed with a method that is not inspected", finding.Medium)
	RuleHidden           = family.Rule("hidden-entry", "Local file header missing from the central directory", finding.High)
	RuleOverlap          = family.Rule("overlap", "Entries share bytes", finding.High)
	RulePrefix           = family.Rule("prefix-data", "Data before the first archive entry", finding.Medium)
	RuleMalformed        = family.Rule("malformed", "Archive structure is damaged or inconsistent", finding.Medium)
	RuleSizeMismatch     = family.Rule("size-mismatch", "Entry sizes disagree between headers or with the data", finding.Medium)
	RuleLimit            = family.Rule("limit", "Archive exceeds a scanning limit; part was not inspected", finding.Medium)
	RuleRatio            = family.Rule("compression-ratio", "Entry compression ratio beyond the limit (zip bomb)", finding.High)
	RuleDepth            = family.Rule("nesting-depth", "Archives nested deeper than the limit", finding.Medium)
	RuleNotInspected     = family.Rule("not-inspected", "Archive format not inspected", finding.Medium)
	RuleSpecialFile      = family.Rule("special-file", "Tar entry is a device, FIFO or other special file", finding.Low)
	RuleTrailingData     = family.Rule("trailing-data", "Data after the end of the archive", finding.Low)
	RuleFilterEvasion    = family.Rule("filter-evasion", "xz stream uses a filter chain no model writer uses (BCJ, delta); its content was not inspected", finding.High)
	RuleCentralEncrypted = family.Rule("central-directory-encrypted", "Central directory is encrypted", finding.Medium)
)

// Rules returns every rule this package can emit.
func Rules() []finding.Rule {
	return modelfinding.Rules(
		RuleEncrypted, RuleFlagEvasion, RuleCRC, RuleNameMismatch, RuleDuplicate,
		RulePathTraversal, RuleSymlink, RuleMethod, RuleHidden, RuleOverlap,
		RulePrefix, RuleMalformed, RuleSizeMismatch, RuleLimit, RuleRatio,
		RuleDepth, RuleNotInspected, RuleSpecialFile, RuleTrailingData,
		RuleCentralEncrypted, RuleFilterEvasion,
	)
}

// newFinding makes a finding of rule r at offset off about the entry name.
func newFinding(r *finding.Rule, off int64, name, msg string) finding.Finding {
	return modelfinding.At(r, Detector, off, name, name, msg)
}

// Format is a container format recognised by its magic bytes.
type Format int

// The formats Sniff recognises.
const (
	Unknown Format = iota
	Zip
	Tar
	SevenZip
	Gzip
	Bzip2
	XZ
	Zstd
	RAR
	Zlib
	LZMA // the LZMA "alone" format (.lzma, joblib's "lzma" compressor)
	LZ4  // an LZ4 frame (joblib's "lz4" compressor)
)

var formatNames = [...]string{"unknown", "zip", "tar", "7z", "gzip", "bzip2", "xz", "zstd", "rar", "zlib", "lzma", "lz4"}

// String returns the format's short name.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("format(%d)", int(f))
	}
	return formatNames[f]
}

// Inspected reports whether this package walks archives of format f:
// ZIP and tar (WalkZip, WalkTar) and the gzip, zlib, bzip2, xz, LZMA,
// zstd and LZ4 streams (WalkCompressed). 7z and RAR are recognised only.
func (f Format) Inspected() bool {
	switch f {
	case Zip, Tar, Gzip, Zlib, Bzip2, XZ, LZMA, Zstd, LZ4:
		return true
	}
	return false
}

// SniffLen is the number of leading bytes Sniff needs to recognise every
// format (a tar header is 512 bytes).
const SniffLen = 512

// Sniff recognises a container format from the first bytes of a file
// (SniffLen bytes suffice). A ZIP with data prepended is not recognised
// here; WalkZip finds it by its end record. Zlib and LZMA streams, which
// have no magic number, are not recognised here either (see Walk).
func Sniff(head []byte) Format {
	has := func(p string) bool { return len(head) >= len(p) && string(head[:len(p)]) == p }
	switch {
	case has("PK\x03\x04"), has("PK\x05\x06"), has("PK\x07\x08"):
		return Zip
	case has("7z\xbc\xaf\x27\x1c"):
		return SevenZip
	case has("\x1f\x8b"):
		return Gzip
	case has("BZh"):
		return Bzip2
	case has("\xfd7zXZ\x00"):
		return XZ
	case has("\x28\xb5\x2f\xfd"):
		return Zstd
	case has("\x04\x22\x4d\x18"), has("\x02\x21\x4c\x18"):
		return LZ4
	case has("Rar!\x1a\x07"):
		return RAR
	case isTarHeader(head):
		return Tar
	}
	return Unknown
}

// isZlib reports whether head starts with a zlib header with the 32 KiB
// window every encoder writes (joblib's default compressor). Sniff does
// not return Zlib, whose two-byte header is too weak a magic to decide a
// file's format alone; Walk tries it last.
func isZlib(head []byte) bool {
	if len(head) < 2 || head[0] != 0x78 {
		return false
	}
	switch head[1] {
	case 0x01, 0x5e, 0x9c, 0xda:
		return true
	}
	return false
}

// isTarHeader reports whether b starts with a tar header block: the ustar
// magic, or (for old V7 archives) a valid header checksum.
func isTarHeader(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	if string(b[257:262]) == "ustar" {
		return true
	}
	// V7: the checksum field holds the octal sum of the header bytes with
	// the field itself counted as spaces.
	var sum int64
	for i := range 512 {
		if i >= 148 && i < 156 {
			sum += ' '
			continue
		}
		sum += int64(b[i])
	}
	var want int64
	digits := 0
	for _, c := range b[148:156] {
		switch {
		case c >= '0' && c <= '7':
			want = want*8 + int64(c-'0')
			digits++
		case c == ' ' || c == 0:
			if digits > 0 {
				goto done
			}
		default:
			return false
		}
	}
done:
	return digits > 0 && want == sum && b[0] != 0
}

// NotInspected returns the finding for a container of format f that this
// package does not walk (7z, RAR): its members may hold code and were not
// scanned.
func NotInspected(f Format) finding.Finding {
	fd := newFinding(RuleNotInspected, 0, "",
		fmt.Sprintf("%s archive: its members were not inspected; unpack it and scan the members", f))
	fd.Excerpt = f.String()
	return fd
}
