package auth

import (
	"errors"
	"net/http"
)

// Errors returned by Authenticate. Test them with errors.Is: the returned
// error may wrap one with a reason meant for the server's log (it never
// contains the presented credential). Clients should only ever see
// ClientMessage and ClientCode.
var (
	// ErrMissingCredential: the request carried no credential.
	ErrMissingCredential = errors.New("auth: missing credential")
	// ErrInvalidCredential: malformed, unknown, or wrong credential. The
	// three are one answer to the client, so a caller cannot probe which
	// prefixes exist.
	ErrInvalidCredential = errors.New("auth: invalid credential")
	// ErrExpired: the credential was valid and has expired.
	ErrExpired = errors.New("auth: credential expired")
	// ErrRevoked: the key was valid and has been revoked.
	ErrRevoked = errors.New("auth: credential revoked")
	// ErrUnavailable: the key store could not answer; the gateway should
	// answer 503, not 401.
	ErrUnavailable = errors.New("auth: key store unavailable")
)

// ClientMessage returns the message that may be shown to the client for an
// error returned by Authenticate; it never says more than the error's
// class.
func ClientMessage(err error) string {
	switch {
	case errors.Is(err, ErrMissingCredential):
		return "Missing API key. Send it as 'Authorization: Bearer <key>'."
	case errors.Is(err, ErrExpired):
		return "The API key has expired."
	case errors.Is(err, ErrRevoked):
		return "The API key has been revoked."
	case errors.Is(err, ErrUnavailable):
		return "Authentication is temporarily unavailable."
	default:
		return "Invalid API key."
	}
}

// ClientCode returns an OpenAI-style error code for an error returned by
// Authenticate.
func ClientCode(err error) string {
	switch {
	case errors.Is(err, ErrMissingCredential):
		return "missing_api_key"
	case errors.Is(err, ErrExpired):
		return "expired_api_key"
	case errors.Is(err, ErrRevoked):
		return "revoked_api_key"
	case errors.Is(err, ErrUnavailable):
		return "auth_unavailable"
	default:
		return "invalid_api_key"
	}
}

// HTTPStatus returns the status code to answer an error returned by
// Authenticate with: 503 when the store failed, else 401.
func HTTPStatus(err error) int {
	if errors.Is(err, ErrUnavailable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// reason wraps a sentinel with a fixed, credential-free reason for logs.
type reason struct {
	sentinel error
	why      string
}

func (e *reason) Error() string { return e.sentinel.Error() + ": " + e.why }
func (e *reason) Unwrap() error { return e.sentinel }

func because(sentinel error, why string) error { return &reason{sentinel, why} }

// Pre-built reasons, so the hot path allocates nothing on failure either.
var (
	errMalformedKey    = because(ErrInvalidCredential, "malformed API key")
	errUnknownKey      = because(ErrInvalidCredential, "unknown key prefix")
	errWrongSecret     = because(ErrInvalidCredential, "wrong key secret")
	errNotBearer       = because(ErrInvalidCredential, "authorization scheme is not Bearer")
	errManyHeaders     = because(ErrInvalidCredential, "more than one credential header value")
	errUnknownKind     = because(ErrInvalidCredential, "credential is neither an API key nor a JWT")
	errJWTDisabled     = because(ErrInvalidCredential, "JWT presented but JWT authentication is not configured")
	errTooLong         = because(ErrInvalidCredential, "credential too long")
	errKeyRevoked      = because(ErrRevoked, "key revoked")
	errKeyExpired      = because(ErrExpired, "key expired")
	errEmptyCredential = because(ErrMissingCredential, "empty credential")
)
