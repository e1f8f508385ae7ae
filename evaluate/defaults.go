package evaluate

import (
	"maps"
	"slices"

	"github.com/rampartsec/rampart/detect"
)

// positiveLabels are the labels that count as positive per detector type.
var positiveLabels = map[string][]string{
	"injection": {"injection", "jailbreak"},
	"toxicity":  {"toxic"},
	"secrets":   {"secret"},
	"unicode":   {"smuggling"},
	"exfil":     {"exfil"},
	"canary":    {"leak"},
}

// typeMaps map dataset span types to detector labels per detector type. The
// type "*" mapped to "*" matches spans of any type with hits of any label.
var typeMaps = map[string]map[string]string{
	"pii": {
		"EMAIL_ADDRESS": "EMAIL",
		"PHONE_NUMBER":  "PHONE_NUMBER",
		"CREDIT_CARD":   "CREDIT_CARD",
		"IBAN_CODE":     "IBAN",
		"US_SSN":        "US_SSN",
		"IP_ADDRESS":    "IP_ADDRESS",
	},
	"secrets": {"*": "*"},
}

// spanPositive lists the detector types whose rows are positive when they
// carry at least one gold span of a mapped type, whatever their label.
var spanPositive = map[string]bool{"pii": true}

// DefaultPositive returns the labels that count as positive for the
// detector type name, or nil when it has none (pii: a row is positive when
// it has a gold span of a mapped type; see Config.PositiveBySpans).
func DefaultPositive(name string) []string {
	return slices.Clone(positiveLabels[name])
}

// DefaultTypeMap returns the dataset-type to detector-label mapping used
// for span figures of the detector type name, or nil when it has none.
func DefaultTypeMap(name string) map[string]string {
	return maps.Clone(typeMaps[name])
}

// DefaultConfig returns the configuration for evaluating the detector type
// name: its positive labels or span positives, its type map, role user,
// surface prompt, threshold detect.DefaultThreshold and one timing run.
func DefaultConfig(name string) Config {
	return Config{
		Name:            name,
		Threshold:       detect.DefaultThreshold,
		Positive:        DefaultPositive(name),
		PositiveBySpans: spanPositive[name],
		TypeMap:         DefaultTypeMap(name),
		Role:            detect.RoleUser,
		Surface:         detect.SurfacePrompt,
		Repeat:          1,
	}
}
