package pii

import "strings"

// datasetTypes maps entity type names used by span-labelled PII datasets
// (Presidio's and its research data sets) to the Labels of this
// detector's hits.
var datasetTypes = map[string]string{
	"EMAIL_ADDRESS":  "EMAIL",
	"EMAIL":          "EMAIL",
	"PHONE_NUMBER":   "PHONE_NUMBER",
	"CREDIT_CARD":    "CREDIT_CARD",
	"IBAN_CODE":      "IBAN",
	"IBAN":           "IBAN",
	"US_SSN":         "US_SSN",
	"IP_ADDRESS":     "IP_ADDRESS",
	"PERSON":         "PERSON",
	"STREET_ADDRESS": "STREET_ADDRESS",
	"ADDRESS":        "STREET_ADDRESS",
	// Only dates of birth are ours; other dates and times count against
	// recall when reported but are not claimed.
	"DATE_TIME": "DATE_OF_BIRTH",
}

// DatasetType returns the hit Label that a dataset's entity type
// corresponds to ("EMAIL_ADDRESS" → "EMAIL", "IBAN_CODE" → "IBAN",
// "ADDRESS" → "STREET_ADDRESS", "DATE_TIME" → "DATE_OF_BIRTH", …), or ""
// when the detector does not look for that type. Case is ignored.
func DatasetType(typ string) string {
	return datasetTypes[strings.ToUpper(typ)]
}

// ValidatedLabels are the Labels whose values a validator or a
// libphonenumber parse confirms; the span-level acceptance figure is the
// micro-averaged F1 over them.
var ValidatedLabels = []string{"EMAIL", "PHONE_NUMBER", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS"}
