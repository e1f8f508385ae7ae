package evaluate

import (
	"maps"
	"slices"
	"sync"

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

// spanTypes holds the mappings registered with RegisterSpanTypes.
var (
	spanTypesMu sync.RWMutex
	spanTypes   = map[string]registeredSpanTypes{}
)

type registeredSpanTypes struct {
	mapType func(string) string
	labels  []string
}

// RegisterSpanTypes sets how span figures of the detector type name relate
// dataset span types to its hit labels, replacing the built-in map:
// mapType returns the label a dataset type corresponds to ("" when the
// detector does not look for it), labels lists the hit labels evaluated.
// A detector package can export both, e.g.
//
//	evaluate.RegisterSpanTypes("pii", pii.DatasetType, pii.Labels)
//
// It is meant for program start-up (package main); it is safe for
// concurrent use.
func RegisterSpanTypes(name string, mapType func(datasetType string) string, labels []string) {
	spanTypesMu.Lock()
	defer spanTypesMu.Unlock()
	spanTypes[name] = registeredSpanTypes{mapType, slices.Clone(labels)}
}

// spanPositive lists the detector types whose rows are positive when they
// carry at least one gold span (of any type), whatever their label.
var spanPositive = map[string]bool{"pii": true}

// DefaultPositive returns the labels that count as positive for the
// detector type name, or nil when it has none (pii: a row is positive when
// it has a gold span; see Config.PositiveBySpans).
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
// surface prompt, threshold detect.DefaultThreshold and one timing run. A
// mapping registered with RegisterSpanTypes replaces the built-in type map.
func DefaultConfig(name string) Config {
	spanTypesMu.RLock()
	st, registered := spanTypes[name]
	spanTypesMu.RUnlock()
	c := Config{
		Name:            name,
		Threshold:       detect.DefaultThreshold,
		Positive:        DefaultPositive(name),
		PositiveBySpans: spanPositive[name],
		TypeMap:         DefaultTypeMap(name),
		Role:            detect.RoleUser,
		Surface:         detect.SurfacePrompt,
		Repeat:          1,
	}
	if registered {
		c.TypeMap, c.MapType, c.Labels = nil, st.mapType, slices.Clone(st.labels)
	}
	return c
}
