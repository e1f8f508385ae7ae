package pii

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// idValidators maps a validator.js validator and locale to the validators
// here that cover it, and says which of its rows they cover: validator.js
// folds other identifiers into some locales (UK tax references, Brazilian
// company numbers, short Spanish NIFs), which are left out.
var idValidators = map[string]struct {
	check  func(string) bool
	covers func(string) bool
}{
	"isIdentityCard ES":    {func(s string) bool { return esDNI(s) || esNIE(s) }, func(s string) bool { return len(s) == 9 }},
	"isIdentityCard IN":    {inAadhaar, nil},
	"isIdentityCard zh-CN": {cnResidentID, nil},
	"isTaxID de-DE":        {deTaxID, nil},
	"isTaxID en-GB":        {ukNINO, func(s string) bool { return len(s) > 1 && isUpper(s[0]) && isUpper(s[1]) }},
	"isTaxID es-ES":        {func(s string) bool { return esDNI(s) || esNIE(s) }, func(s string) bool { return len(s) == 9 && (isDigit(s[0]) || strings.IndexByte("XYZ", s[0]) >= 0) }},
	"isTaxID it-IT":        {itFiscalCode, nil},
	"isTaxID nl-NL":        {nlBSN, nil},
	"isTaxID pt-BR":        {brCPF, func(s string) bool { return len(s) == 11 }},
	"isTaxID en-CA":        {caSIN, nil},
}

// TestValidatorJSIDs runs the national-ID and passport validators over
// validator.js's test values (MIT, copied into testdata, see NOTICE):
// every covered valid row must be accepted and every covered invalid row
// rejected, apart from the differences listed in knownDiff.
func TestValidatorJSIDs(t *testing.T) {
	f, err := os.Open("testdata/validatorjs-ids.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// knownDiff are rows where this package deliberately disagrees.
	knownDiff := map[string]string{
		"isTaxID en-CA 000000000": "all zeros passes Luhn but is no one's number",
	}
	type counts struct{ valid, invalid, skipped int }
	per := map[string]*counts{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Text, Label, Validator string
			Args                   []any
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		loc, _ := r.Args[0].(string)
		key := r.Validator + " " + loc
		v, ok := idValidators[key]
		if f := passportFormats[loc]; f != nil && r.Validator == "isPassportNumber" {
			v, ok = idValidators[key], true
			v.check = f
		}
		if !ok {
			t.Fatalf("no validator for %s", key)
		}
		c := per[key]
		if c == nil {
			c = &counts{}
			per[key] = c
		}
		// Values are checked as written (upper-cased, outer spaces
		// trimmed): validator.js rejects separators, except the Indian
		// passport's hyphen.
		s := strings.ToUpper(strings.TrimSpace(r.Text))
		switch key {
		case "isPassportNumber IN":
			s = strings.Replace(s, "-", "", 1)
		case "isIdentityCard IN": // 2984 4886 3364
			s = strings.ReplaceAll(s, " ", "")
		case "isTaxID de-DE": // 659/299/7048/9
			s = strings.ReplaceAll(s, "/", "")
		case "isTaxID pt-BR": // 123.456.789-09, the form the scanner reads too
			if len(s) == 14 && s[3] == '.' && s[7] == '.' && s[11] == '-' {
				s = s[:3] + s[4:7] + s[8:11] + s[12:]
			}
		}
		if v.covers != nil && !v.covers(s) {
			c.skipped++
			continue
		}
		got := v.check(s)
		if got != (r.Label == "valid") {
			if why, ok := knownDiff[key+" "+r.Text]; ok {
				t.Logf("%s %q: %s, as expected (%s)", key, r.Text, r.Label, why)
				c.skipped++
				continue
			}
			t.Errorf("%s %q (%s): validator says %v", key, r.Text, r.Label, got)
			continue
		}
		if got {
			c.valid++
		} else {
			c.invalid++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for k, c := range per {
		t.Logf("%-24s valid accepted %3d, invalid rejected %3d, not covered %d", k, c.valid, c.invalid, c.skipped)
		total += c.valid + c.invalid
	}
	if total < 150 {
		t.Fatalf("only %d rows checked", total)
	}
}

// FuzzValidators feeds arbitrary strings to every identifier validator:
// none may panic, and whatever one accepts must have its scheme's length.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"12345678Z", "X1234567L", "DMLPRY77D15H501F", "185057800608436", "174559434", "26954371827",
		"12345678909", "298448863364", "210203197503102721", "110101491001001", "046454286", "AA123456A", "C01X00T47", "2A"} {
		f.Add(s)
	}
	lengths := map[string][]int{
		"esDNI": {9}, "esNIE": {9}, "ukNINO": {8, 9}, "itFiscalCode": {16}, "frNIR": {15}, "nlBSN": {9}, "deTaxID": {11},
		"brCPF": {11}, "inAadhaar": {12}, "cnResidentID": {15, 18}, "caSIN": {9}, "passportFormat": {8, 9},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, v := range map[string]func(string) bool{
			"esDNI": esDNI, "esNIE": esNIE, "ukNINO": ukNINO, "itFiscalCode": itFiscalCode, "frNIR": frNIR, "nlBSN": nlBSN,
			"deTaxID": deTaxID, "brCPF": brCPF, "inAadhaar": inAadhaar, "cnResidentID": cnResidentID, "caSIN": caSIN,
			"passportFormat": passportFormat,
		} {
			if v(s) && !slices.Contains(lengths[name], len(s)) {
				t.Fatalf("%s accepts %q of length %d", name, s, len(s))
			}
		}
	})
}
