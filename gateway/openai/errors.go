package openai

import (
	"net/http"
	"strconv"
)

// Error types used in APIError.Type, as OpenAI names them where it has a
// name for the case.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeRateLimit      = "rate_limit_error"
	TypeUpstream       = "upstream_error"
	TypeServer         = "server_error"
	TypePolicy         = "policy_violation"
)

// APIError is an error answered in OpenAI's shape:
//
//	{"error": {"message": …, "type": …, "param": …, "code": …, "request_id": …}}
//
// with Rampart's additions (request_id always; detector, rule and policy
// for blocks) inside the same object, where OpenAI SDKs ignore them.
type APIError struct {
	Status    int
	Message   string
	Type      string
	Param     string
	Code      string
	RequestID string
	Detector  string
	Rule      string
	Policy    string
	// RetryAfter, in whole seconds, is sent as a Retry-After header.
	RetryAfter int
}

func (e *APIError) Error() string { return e.Message }

// AppendJSON appends the error body.
func (e *APIError) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = AppendString(dst, e.Message)
	dst = append(dst, `,"type":`...)
	dst = AppendString(dst, e.Type)
	dst = append(dst, `,"param":`...)
	dst = appendNullable(dst, e.Param)
	dst = append(dst, `,"code":`...)
	dst = appendNullable(dst, e.Code)
	if e.RequestID != "" {
		dst = append(dst, `,"request_id":`...)
		dst = AppendString(dst, e.RequestID)
	}
	if e.Detector != "" {
		dst = append(dst, `,"detector":`...)
		dst = AppendString(dst, e.Detector)
	}
	if e.Rule != "" {
		dst = append(dst, `,"rule":`...)
		dst = AppendString(dst, e.Rule)
	}
	if e.Policy != "" {
		dst = append(dst, `,"policy":`...)
		dst = AppendString(dst, e.Policy)
	}
	return append(dst, "}}"...)
}

func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return AppendString(dst, s)
}

// Write sends the error as an HTTP response.
func (e *APIError) Write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	body := e.AppendJSON(make([]byte, 0, 256))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
