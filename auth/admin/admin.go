// Package admin serves the admin HTTP API for API keys under /admin/v1/keys:
// create (the secret is shown once), list (never a secret or a hash),
// revoke and rotate. Every request must carry the admin bearer token, which
// is compared in constant time.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/secretref"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

// Actions passed to Options.OnAction.
const (
	ActionKeyCreate    = "key.create"
	ActionKeyRevoke    = "key.revoke"
	ActionKeyRotate    = "key.rotate"
	ActionUnauthorized = "admin.unauthorized"
)

// Actor is the actor named to OnAction for requests that carried the
// admin token (one shared token identifies no person).
const Actor = "admin-token"

// Options configure the handler.
type Options struct {
	// Keys does the work.
	Keys *auth.KeyService
	// Token is the admin bearer token; it must not be empty.
	Token secretref.Secret
	// OnAction, when set, is called after each successful change
	// (ActionKeyCreate, ActionKeyRevoke, ActionKeyRotate; target is the
	// key ID) and for each refused token (ActionUnauthorized; target is the
	// request path, actor "anonymous"), so the gateway can audit them. A
	// rotation calls it twice: key.create for the new key, then key.rotate
	// for the old one.
	OnAction func(ctx context.Context, action, target, actor string)
	// Logger receives server-side errors; nil means slog.Default().
	Logger *slog.Logger
	// Clock returns the current time for a key's status; nil means
	// time.Now.
	Clock func() time.Time
}

// Handler is the admin API.
type Handler struct {
	keys     *auth.KeyService
	token    [sha256.Size]byte
	onAction func(ctx context.Context, action, target, actor string)
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
}

// New returns the admin API handler; mount it at "/admin/".
func New(opts Options) (*Handler, error) {
	if opts.Keys == nil {
		return nil, errors.New("admin: no key service")
	}
	if opts.Token.IsZero() {
		return nil, errors.New("admin: empty admin token")
	}
	if len(opts.Token.Reveal()) < 16 {
		return nil, errors.New("admin: admin token shorter than 16 characters")
	}
	h := &Handler{
		keys:     opts.Keys,
		token:    sha256.Sum256([]byte(opts.Token.Reveal())),
		onAction: opts.OnAction,
		log:      opts.Logger,
		now:      opts.Clock,
		mux:      http.NewServeMux(),
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	// Patterns without methods, so that a wrong method gets our JSON 405
	// rather than the mux's plain-text one.
	h.mux.HandleFunc("/admin/v1/keys", h.methods(map[string]http.HandlerFunc{
		http.MethodGet:  h.list,
		http.MethodPost: h.create,
	}))
	h.mux.HandleFunc("/admin/v1/keys/{id}", h.methods(map[string]http.HandlerFunc{http.MethodGet: h.get}))
	h.mux.HandleFunc("/admin/v1/keys/{id}/revoke", h.methods(map[string]http.HandlerFunc{http.MethodPost: h.revoke}))
	h.mux.HandleFunc("/admin/v1/keys/{id}/rotate", h.methods(map[string]http.HandlerFunc{http.MethodPost: h.rotate}))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found_error", "not_found", "No such admin endpoint.")
	})
	return h, nil
}

// ServeHTTP checks the admin token, then routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !h.authorized(r) {
		h.action(r.Context(), ActionUnauthorized, r.URL.Path, "anonymous")
		w.Header().Set("WWW-Authenticate", `Bearer realm="rampart-admin"`)
		writeError(w, http.StatusUnauthorized, "authentication_error", "invalid_admin_token",
			"Missing or invalid admin token. Send it as 'Authorization: Bearer <token>'.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	h.mux.ServeHTTP(w, r)
}

// authorized compares SHA-256 digests in constant time, so neither the
// token's bytes nor its length leak through timing.
func (h *Handler) authorized(r *http.Request) bool {
	vs := r.Header["Authorization"]
	if len(vs) != 1 {
		return false
	}
	v := strings.TrimSpace(vs[0])
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(v[len(scheme):])))
	return subtle.ConstantTimeCompare(sum[:], h.token[:]) == 1
}

func (h *Handler) methods(m map[string]http.HandlerFunc) http.HandlerFunc {
	allow := make([]string, 0, len(m))
	for method := range m {
		allow = append(allow, method)
	}
	allowHeader := strings.Join(allow, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		if f, ok := m[r.Method]; ok {
			f(w, r)
			return
		}
		w.Header().Set("Allow", allowHeader)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed",
			fmt.Sprintf("Method %s is not allowed here.", r.Method))
	}
}

func (h *Handler) action(ctx context.Context, action, target, actor string) {
	if h.onAction != nil {
		h.onAction(ctx, action, target, actor)
	}
}

// keyView is a key as the API shows it: never its hash (Key's JSON leaves
// it out) and with its state spelled out.
type keyView struct {
	*auth.Key
	Status string `json:"status"`
}

// createdView adds the secret, shown this once.
type createdView struct {
	keyView
	Secret string `json:"secret"`
}

func (h *Handler) view(k *auth.Key) keyView {
	return keyView{Key: k, Status: k.Status(h.now())}
}

// createRequest is the body of POST /admin/v1/keys.
type createRequest struct {
	Name      string          `json:"name"`
	Group     string          `json:"group"`
	Models    []string        `json:"models"`
	Routes    []string        `json:"routes"`
	ExpiresIn string          `json:"expires_in"`
	ExpiresAt *time.Time      `json:"expires_at"`
	Limits    config.LimitSet `json:"limits"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	opts := auth.CreateOptions{
		Name:   req.Name,
		Group:  req.Group,
		Models: req.Models,
		Routes: req.Routes,
		Limits: req.Limits,
	}
	if req.ExpiresIn != "" {
		d, err := ParseDuration(req.ExpiresIn)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_field",
				fmt.Sprintf("expires_in: %v", err))
			return
		}
		opts.ExpiresIn = d
	}
	if req.ExpiresAt != nil {
		opts.ExpiresAt = *req.ExpiresAt
	}
	secret, k, err := h.keys.Create(r.Context(), opts)
	if err != nil {
		h.fail(w, r, "create key", err)
		return
	}
	h.action(r.Context(), ActionKeyCreate, k.ID, Actor)
	writeJSON(w, http.StatusCreated, createdView{keyView: h.view(k), Secret: secret})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	keys, err := h.keys.List(r.Context())
	if err != nil {
		h.fail(w, r, "list keys", err)
		return
	}
	data := make([]keyView, len(keys))
	for i, k := range keys {
		data[i] = h.view(k)
	}
	writeJSON(w, http.StatusOK, struct {
		Object string    `json:"object"`
		Data   []keyView `json:"data"`
	}{"list", data})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	k, err := h.keys.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, "get key", err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(k))
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !h.decode(w, r, &req, true) {
		return
	}
	k, err := h.keys.Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, "revoke key", err)
		return
	}
	h.action(r.Context(), ActionKeyRevoke, k.ID, Actor)
	writeJSON(w, http.StatusOK, h.view(k))
}

// rotateRequest is the optional body of POST /admin/v1/keys/{id}/rotate.
type rotateRequest struct {
	// Grace keeps the old key working this long ("24h", "7d"); default 0.
	Grace string `json:"grace"`
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request) {
	var req rotateRequest
	if !h.decode(w, r, &req, true) {
		return
	}
	var grace time.Duration
	if req.Grace != "" {
		d, err := ParseDuration(req.Grace)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_field", fmt.Sprintf("grace: %v", err))
			return
		}
		grace = d
	}
	id := r.PathValue("id")
	secret, k, err := h.keys.Rotate(r.Context(), id, grace)
	if err != nil {
		h.fail(w, r, "rotate key", err)
		return
	}
	h.action(r.Context(), ActionKeyCreate, k.ID, Actor)
	h.action(r.Context(), ActionKeyRotate, id, Actor)
	writeJSON(w, http.StatusCreated, createdView{keyView: h.view(k), Secret: secret})
}

// decode reads one JSON object into v, refusing unknown fields, trailing
// data and bodies over MaxBodyBytes. An empty body is allowed when
// optional is true.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && optional {
		return true
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "body_too_large",
			fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "The request body is empty; a JSON object is required.")
	default:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "Invalid JSON body: "+jsonProblem(err))
	}
	return false
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	default:
		return "a value has the wrong form (times are RFC 3339, e.g. \"2027-01-31T00:00:00Z\")"
	}
}

// fail answers a KeyService error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	switch {
	case errors.Is(err, auth.ErrInvalidOptions):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_field", err.Error())
	case errors.Is(err, auth.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found_error", "key_not_found", "No key with that id.")
	case errors.Is(err, auth.ErrKeyRevoked):
		writeError(w, http.StatusConflict, "invalid_request_error", "key_revoked", "The key is already revoked.")
	case r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		writeError(w, http.StatusServiceUnavailable, "server_error", "canceled", "The request was canceled.")
	default:
		h.log.ErrorContext(r.Context(), "admin API failed", "op", op, "err", err)
		writeError(w, http.StatusInternalServerError, "server_error", "internal_error", "Internal error; see the server log.")
	}
}

type apiError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    string `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var e apiError
	e.Error.Message, e.Error.Type, e.Error.Code = msg, typ, code
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"Internal error.","type":"server_error","code":"internal_error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ParseDuration parses a Go duration ("720h", "90m") or a whole number of
// days ("30d"). It refuses negative values.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err != nil || n > 36500 {
			return 0, fmt.Errorf("%q is not a duration (e.g. \"720h\" or \"30d\")", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. \"720h\" or \"30d\")", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
