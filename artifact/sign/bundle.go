package sign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// BundleMediaType is the media type of the Sigstore bundles this package
// writes, and the one OpenSSF model signing reads.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// bundleMediaTypeAlt is the other spelling of bundle v0.3 that Sigstore
// clients accept.
const bundleMediaTypeAlt = "application/vnd.dev.sigstore.bundle+json;version=0.3"

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// MaxBundleSize bounds a signature file. A manifest entry takes about 150
// bytes, so this holds models of several hundred thousand files.
const MaxBundleSize = 64 << 20

// maxSignatures and maxCertificates bound the lists of a bundle.
const (
	maxSignatures   = 16
	maxCertificates = 10
)

// Bundle is a Sigstore bundle (v0.3, JSON) holding a DSSE envelope. Only
// the fields that model signing uses are modelled; the transparency-log
// fields are kept as raw JSON for a future keyless verifier.
type Bundle struct {
	MediaType            string               `json:"mediaType"`
	VerificationMaterial VerificationMaterial `json:"verificationMaterial"`
	DSSEEnvelope         *Envelope            `json:"dsseEnvelope,omitempty"`
	// MessageSignature is set by bundles that sign a digest instead of an
	// envelope; model signatures never do, so its presence is an error.
	MessageSignature json.RawMessage `json:"messageSignature,omitempty"`
}

// VerificationMaterial says how to check the envelope's signature: a public
// key hint (key signing), an X.509 chain (certificate signing) or a single
// certificate with transparency-log entries (keyless Sigstore signing).
type VerificationMaterial struct {
	PublicKey                 *PublicKeyIdentifier `json:"publicKey,omitempty"`
	X509CertificateChain      *CertificateChain    `json:"x509CertificateChain,omitempty"`
	Certificate               *Certificate         `json:"certificate,omitempty"`
	TlogEntries               []json.RawMessage    `json:"tlogEntries"`
	TimestampVerificationData json.RawMessage      `json:"timestampVerificationData,omitempty"`
}

// PublicKeyIdentifier names the signing key. Current model signatures set
// Hint (hex SHA-256 of the PKIX PEM public key); signatures of
// model_signing 0.3 and 1.0 carried the PEM key in RawBytes instead.
type PublicKeyIdentifier struct {
	Hint       string `json:"hint,omitempty"`
	RawBytes   Bytes  `json:"rawBytes,omitempty"`
	KeyDetails string `json:"keyDetails,omitempty"`
}

// CertificateChain is a leaf-first chain of DER certificates.
type CertificateChain struct {
	Certificates []Certificate `json:"certificates"`
}

// Certificate is one DER-encoded X.509 certificate.
type Certificate struct {
	RawBytes Bytes `json:"rawBytes"`
}

// Envelope is a DSSE envelope.
type Envelope struct {
	Payload     Bytes       `json:"payload"`
	PayloadType string      `json:"payloadType"`
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature.
type Signature struct {
	Sig   Bytes  `json:"sig"`
	KeyID string `json:"keyid"`
}

// Bytes is binary data in JSON as standard, padded base64 (as protobuf
// JSON writes bytes). Decoding is strict: unused trailing bits must be
// zero, so every change to the text changes the bytes.
type Bytes []byte

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	d, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return fmt.Errorf("base64: %w", err)
	}
	*b = d
	return nil
}

// ErrFormat marks a signature file that is not a model signature this
// package can read.
var ErrFormat = errors.New("unsupported signature format")

// ParseBundle decodes and checks the structure of a signature file. It
// verifies nothing cryptographic.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("signature is %d bytes, more than the %d allowed", len(data), MaxBundleSize)
	}
	// encoding/json matches field names without regard to case and skips
	// unknown ones; check the names first so that the bundle reads the
	// same here as in protobuf-based verifiers.
	if err := checkFieldNames(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("parse signature bundle: %w", jsonErr(err))
	}
	switch b.MediaType {
	case BundleMediaType, bundleMediaTypeAlt:
	case "":
		return nil, fmt.Errorf("%w: bundle has no mediaType", ErrFormat)
	default:
		return nil, fmt.Errorf("%w: bundle media type %q (want %s)", ErrFormat, b.MediaType, BundleMediaType)
	}
	if len(b.MessageSignature) > 0 {
		return nil, fmt.Errorf("%w: bundle holds a messageSignature; model signatures use a DSSE envelope", ErrFormat)
	}
	e := b.DSSEEnvelope
	if e == nil {
		return nil, fmt.Errorf("%w: bundle has no dsseEnvelope", ErrFormat)
	}
	if e.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: DSSE payload type %q (want %s)", ErrFormat, e.PayloadType, PayloadType)
	}
	if len(e.Payload) == 0 {
		return nil, fmt.Errorf("%w: DSSE envelope has an empty payload", ErrFormat)
	}
	switch n := len(e.Signatures); {
	case n == 0:
		return nil, fmt.Errorf("%w: DSSE envelope has no signature", ErrFormat)
	case n > maxSignatures:
		return nil, fmt.Errorf("%w: DSSE envelope has %d signatures (at most %d)", ErrFormat, n, maxSignatures)
	}
	for i, s := range e.Signatures {
		if len(s.Sig) == 0 {
			return nil, fmt.Errorf("%w: DSSE signature %d is empty", ErrFormat, i)
		}
	}
	vm := &b.VerificationMaterial
	if c := vm.X509CertificateChain; c != nil {
		switch n := len(c.Certificates); {
		case n == 0:
			return nil, fmt.Errorf("%w: empty x509CertificateChain", ErrFormat)
		case n > maxCertificates:
			return nil, fmt.Errorf("%w: x509CertificateChain has %d certificates (at most %d)", ErrFormat, n, maxCertificates)
		}
	}
	if vm.PublicKey == nil && vm.X509CertificateChain == nil && vm.Certificate == nil {
		return nil, fmt.Errorf("%w: verificationMaterial names no public key or certificate", ErrFormat)
	}
	return &b, nil
}

// Marshal encodes the bundle as indented JSON with a final newline.
func (b *Bundle) Marshal() ([]byte, error) {
	if b.VerificationMaterial.TlogEntries == nil {
		b.VerificationMaterial.TlogEntries = []json.RawMessage{}
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode signature bundle: %w", err)
	}
	return append(out, '\n'), nil
}

// PAE is the DSSE v1 pre-authentication encoding of payload: the bytes that
// are actually signed.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(payload) + len(payloadType) + 32)
	paeHeader(&b, "DSSEv1", payloadType, len(payload))
	b.Write(payload)
	return b.Bytes()
}

// paeHeader writes what precedes the payload in a pre-authentication
// encoding: the version, the type's length, the type and the payload's
// length, each followed by a space.
func paeHeader(b *bytes.Buffer, version, payloadType string, payloadLen int) {
	b.WriteString(version)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(payloadLen))
	b.WriteByte(' ')
}

// paeCompat is the encoding that model_signing before 1.0 signed by
// mistake: "DSSEV1" and the payload as Python prints a bytes object
// (b'...' with escapes). Verifiers accept it for those old signatures; it
// can never equal a PAE, whose prefix is "DSSEv1".
func paeCompat(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(2*len(payload) + len(payloadType) + 32)
	paeHeader(&b, "DSSEV1", payloadType, len(payload))
	pythonBytesRepr(&b, payload)
	return b.Bytes()
}

// pythonBytesRepr writes what Python's repr() of a bytes object prints.
func pythonBytesRepr(b *bytes.Buffer, p []byte) {
	quote := byte('\'')
	if bytes.IndexByte(p, '\'') >= 0 && bytes.IndexByte(p, '"') < 0 {
		quote = '"'
	}
	const hexDigits = "0123456789abcdef"
	b.WriteByte('b')
	b.WriteByte(quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < ' ' || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
}

// jsonErr adds the byte offset to JSON syntax and type errors.
func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w (at byte %d)", err, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%w (at byte %d)", err, te.Offset)
	}
	return err
}

// schema lists the field names an object may have (nil: anything goes
// below this point); elem is the schema of array elements.
type schema struct {
	fields map[string]*schema
	elem   *schema
	free   bool
}

var anyJSON = &schema{free: true}

var bundleSchema = &schema{fields: map[string]*schema{
	"mediaType": {},
	"verificationMaterial": {fields: map[string]*schema{
		"publicKey": {fields: map[string]*schema{"hint": {}, "rawBytes": {}, "keyDetails": {}}},
		"x509CertificateChain": {fields: map[string]*schema{
			"certificates": {elem: &schema{fields: map[string]*schema{"rawBytes": {}}}},
		}},
		"certificate":               {fields: map[string]*schema{"rawBytes": {}}},
		"tlogEntries":               {elem: anyJSON},
		"timestampVerificationData": anyJSON,
	}},
	"dsseEnvelope": {fields: map[string]*schema{
		"payload":     {},
		"payloadType": {},
		"signatures":  {elem: &schema{fields: map[string]*schema{"sig": {}, "keyid": {}}}},
	}},
	"messageSignature": anyJSON,
}}

// maxJSONDepth bounds the nesting of a bundle.
const maxJSONDepth = 64

// checkFieldNames walks the bundle's JSON and refuses any object key that
// the bundle schema does not name with exactly that spelling, and
// duplicated keys.
func checkFieldNames(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkJSON(dec, bundleSchema, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON object at byte %d", dec.InputOffset())
	}
	return nil
}

func walkJSON(dec *json.Decoder, s *schema, where string, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d at byte %d", maxJSONDepth, dec.InputOffset())
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("parse signature bundle at byte %d: %w", dec.InputOffset(), err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("parse signature bundle at byte %d: %w", dec.InputOffset(), err)
			}
			k, _ := kt.(string)
			sub := anyJSON
			if !s.free {
				var known bool
				if sub, known = s.fields[k]; !known {
					return fmt.Errorf("unknown field %q in %s (at byte %d)", k, orRoot(where), dec.InputOffset())
				}
			}
			if seen[k] {
				return fmt.Errorf("field %q appears twice in %s (at byte %d)", k, orRoot(where), dec.InputOffset())
			}
			seen[k] = true
			if err := walkJSON(dec, sub, where+"."+k, depth+1); err != nil {
				return err
			}
		}
	case '[':
		sub := s.elem
		if sub == nil {
			sub = anyJSON
			if !s.free {
				return fmt.Errorf("%s is not a list (at byte %d)", orRoot(where), dec.InputOffset())
			}
		}
		for dec.More() {
			if err := walkJSON(dec, sub, where+"[]", depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	if err != nil {
		return fmt.Errorf("parse signature bundle at byte %d: %w", dec.InputOffset(), err)
	}
	return nil
}

func orRoot(where string) string {
	if where == "" {
		return "the bundle"
	}
	return where[1:]
}
