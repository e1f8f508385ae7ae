package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rampartsec/rampart/config"
)

// Defaults for config.JWT fields left zero.
const (
	DefaultJWKSRefresh  = 15 * time.Minute
	DefaultJWTLeeway    = 30 * time.Second
	DefaultSubjectClaim = "sub"
)

// maxJWKSBytes bounds a JWKS document, from a file or a URL.
const maxJWKSBytes = 1 << 20

// allowedAlgs are the only signature algorithms a token may use, each with
// the one key type it needs. HS* and "none" are absent on purpose: a
// verifier that holds public keys must never accept a MAC, or anyone could
// sign tokens with the public key as the HMAC secret.
var allowedAlgs = map[string]jwa.KeyType{
	"RS256": jwa.RSA(), "RS384": jwa.RSA(), "RS512": jwa.RSA(),
	"PS256": jwa.RSA(), "PS384": jwa.RSA(), "PS512": jwa.RSA(),
	"ES256": jwa.EC(), "ES384": jwa.EC(), "ES512": jwa.EC(),
	"EdDSA": jwa.OKP(), "Ed25519": jwa.OKP(),
}

// JWTVerifier verifies JWT bearer tokens against a JWKS and maps them to a
// Principal.
type JWTVerifier struct {
	cfg       config.JWT
	leeway    time.Duration
	subject   string
	keys      func() jwk.Set
	provider  jws.KeyProvider
	cache     *jwk.Cache // nil for a JWKS file
	stop      context.CancelFunc
	closeOnce sync.Once
	closeErr  error
	// lastForced is when an unknown kid last forced a refresh (Unix ns).
	lastForced atomic.Int64
}

// forcedRefreshGap is the least time between two refreshes forced by
// tokens naming an unknown kid (an identity provider that rotated its keys
// before our next scheduled refresh). It bounds what random kids can cost.
const forcedRefreshGap = time.Minute

// NewJWTVerifier loads the key set named by cfg (JWKSFile, or JWKSURL kept
// fresh every RefreshInterval) and returns a verifier. For a URL the first
// fetch happens now, bounded by ctx, and its failure is an error. Close
// stops the background refresh.
func NewJWTVerifier(ctx context.Context, cfg *config.JWT) (*JWTVerifier, error) {
	if cfg == nil {
		return nil, errors.New("jwt: no configuration")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("jwt: issuer is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("jwt: audience is required (tokens issued for other services must not be accepted)")
	}
	if cfg.GroupClaim == "" && cfg.DefaultGroup == "" {
		return nil, errors.New("jwt: set group_claim with groups, or default_group: every token needs a key group")
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("jwt: leeway %s is negative", cfg.Leeway)
	}
	if cfg.RefreshInterval < 0 {
		return nil, fmt.Errorf("jwt: refresh_interval %s is negative", cfg.RefreshInterval)
	}
	v := &JWTVerifier{cfg: *cfg, leeway: cfg.Leeway, subject: cfg.SubjectClaim}
	if v.leeway == 0 {
		v.leeway = DefaultJWTLeeway
	}
	if v.subject == "" {
		v.subject = DefaultSubjectClaim
	}
	switch {
	case cfg.JWKSFile != "" && cfg.JWKSURL != "":
		return nil, errors.New("jwt: set jwks_file or jwks_url, not both")
	case cfg.JWKSFile != "":
		set, err := jwk.ReadFile(cfg.JWKSFile, jwk.WithMaxKeys(1000))
		if err != nil {
			return nil, fmt.Errorf("jwt: read jwks_file %s: %w", cfg.JWKSFile, err)
		}
		if err := checkKeySet(set); err != nil {
			return nil, fmt.Errorf("jwt: jwks_file %s: %w", cfg.JWKSFile, err)
		}
		v.keys = func() jwk.Set { return set }
	case cfg.JWKSURL != "":
		if err := v.startCache(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("jwt: set jwks_file or jwks_url")
	}
	v.provider = jws.KeyProviderFunc(v.fetchKeys)
	return v, nil
}

func (v *JWTVerifier) startCache(ctx context.Context) error {
	u, err := url.Parse(v.cfg.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("jwt: jwks_url is not an http(s) URL")
	}
	// The library's defaults: a timeout, and no redirect from https to http.
	client := jwk.WrapHTTPClientDefaults(&http.Client{Timeout: 30 * time.Second})
	// The first fetch is our own so that its failure is a clear error now,
	// rather than a cache that waits forever for a resource that never
	// becomes ready.
	first, err := jwk.Fetch(ctx, v.cfg.JWKSURL, jwk.WithHTTPClient(client), jwk.WithMaxFetchBodySize(maxJWKSBytes))
	if err != nil {
		return fmt.Errorf("jwt: fetch jwks_url: %w", err)
	}
	if err := checkKeySet(first); err != nil {
		return fmt.Errorf("jwt: jwks_url %s: %w", u.Redacted(), err)
	}
	interval := v.cfg.RefreshInterval
	if interval == 0 {
		interval = DefaultJWKSRefresh
	}
	// The cache outlives ctx (which may only bound start-up): it runs until
	// Close.
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	cache, err := jwk.NewCache(cctx, httprc.NewClient())
	if err != nil {
		stop()
		return fmt.Errorf("jwt: start jwks cache: %w", err)
	}
	err = cache.Register(ctx, v.cfg.JWKSURL,
		jwk.WithHTTPClient(client),
		jwk.WithMaxFetchBodySize(maxJWKSBytes),
		jwk.WithConstantInterval(interval),
		// A failed refresh is retried after MinInterval (default 15m):
		// retry at the configured pace instead.
		jwk.WithMinInterval(min(interval, DefaultJWKSRefresh)),
		jwk.WithWaitReady(false))
	if err != nil {
		stop()
		return fmt.Errorf("jwt: register jwks_url: %w", err)
	}
	res, err := cache.LookupResource(ctx, v.cfg.JWKSURL)
	if err != nil {
		stop()
		return fmt.Errorf("jwt: register jwks_url: %w", err)
	}
	v.cache, v.stop = cache, stop
	v.keys = func() jwk.Set {
		// An atomic load: no round trip to the cache's goroutine.
		if set := res.Resource(); set != nil {
			return set
		}
		return first
	}
	return nil
}

// Close stops refreshing a JWKS URL. It is safe to call on any verifier,
// and more than once.
func (v *JWTVerifier) Close() error {
	if v == nil || v.cache == nil {
		return nil
	}
	v.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := v.cache.Shutdown(ctx)
		v.stop()
		if err != nil {
			v.closeErr = fmt.Errorf("jwt: stop jwks cache: %w", err)
		}
	})
	return v.closeErr
}

// checkKeySet refuses a key set with no usable public key, or with any
// symmetric or private key: a JWKS for verification holds public keys only.
func checkKeySet(set jwk.Set) error {
	usable := 0
	for i := range set.Len() {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		switch k.KeyType() {
		case jwa.OctetSeq():
			return fmt.Errorf("key %d (kid %q) is symmetric; only public keys may verify tokens", i, kid)
		case jwa.RSA(), jwa.EC(), jwa.OKP():
		default:
			continue
		}
		if isPrivate(k) {
			return fmt.Errorf("key %d (kid %q) is a private key; publish only public keys", i, kid)
		}
		usable++
	}
	if usable == 0 {
		return errors.New("no RSA, EC or OKP public key in the key set")
	}
	return nil
}

func isPrivate(k jwk.Key) bool {
	switch k.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey:
		return true
	}
	return false
}

// fetchKeys gives jws.Verify the one key a token may be verified with: the
// key named by its kid (or the only key of the set, when the token names
// none), provided the header's algorithm is allowed, fits the key's type
// and agrees with the key's own "alg", if it has one.
func (v *JWTVerifier) fetchKeys(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	hdr := sig.ProtectedHeaders()
	alg, ok := hdr.Algorithm()
	if !ok {
		return errors.New("token has no alg")
	}
	kty, ok := allowedAlgs[alg.String()]
	if !ok {
		return fmt.Errorf("algorithm %q is not allowed", alg.String())
	}
	set := v.keys()
	var key jwk.Key
	if kid, ok := hdr.KeyID(); ok {
		if key, ok = set.LookupKeyID(kid); !ok && v.refreshForKid(ctx) {
			key, ok = v.keys().LookupKeyID(kid)
		}
		if !ok {
			return errUnknownKid
		}
	} else {
		if set.Len() != 1 {
			return errors.New("token has no kid and the key set has several keys")
		}
		key, _ = set.Key(0)
	}
	if key.KeyType() != kty || isPrivate(key) {
		return errors.New("algorithm does not fit the key")
	}
	if use, ok := key.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
		return errors.New("key is not for signatures")
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != alg.String() {
		return errors.New("algorithm differs from the key's alg")
	}
	sink.Key(alg, key)
	return nil
}

var errUnknownKid = errors.New("unknown kid")

// refreshForKid re-fetches a JWKS URL at once, at most once per
// forcedRefreshGap across all requests, and reports whether it did.
func (v *JWTVerifier) refreshForKid(ctx context.Context) bool {
	if v.cache == nil {
		return false
	}
	now := time.Now().UnixNano()
	last := v.lastForced.Load()
	if now-last < int64(forcedRefreshGap) || !v.lastForced.CompareAndSwap(last, now) {
		return false
	}
	_, err := v.cache.Refresh(ctx, v.cfg.JWKSURL)
	return err == nil
}

// Verify verifies a compact JWS token at time now and maps it to a
// Principal. Its errors wrap ErrInvalidCredential or ErrExpired with a
// fixed reason; they never contain the token or any part of it.
func (v *JWTVerifier) Verify(ctx context.Context, token string, now time.Time) (*Principal, error) {
	tok, err := jwt.ParseString(token,
		jwt.WithKeyProvider(v.provider),
		jwt.WithValidate(true),
		jwt.WithContext(ctx),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(v.leeway),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	)
	if err != nil {
		return nil, classifyJWTError(err)
	}
	subject, err := stringClaim(tok, v.subject)
	if err != nil || subject == "" {
		return nil, because(ErrInvalidCredential, "jwt: no "+v.subject+" claim")
	}
	group, err := v.group(tok)
	if err != nil {
		return nil, err
	}
	exp, _ := tok.Expiration()
	return &Principal{
		KeyID:     "jwt:" + subject,
		Subject:   subject,
		Group:     group,
		Models:    v.cfg.Models,
		Routes:    v.cfg.Routes,
		Kind:      KindJWT,
		ExpiresAt: exp,
	}, nil
}

// classifyJWTError turns a jwx error into one of ours with a fixed reason:
// jwx messages may quote header values, which come from the token.
func classifyJWTError(err error) error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return because(ErrExpired, "jwt: expired")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return because(ErrInvalidCredential, "jwt: not valid yet (nbf)")
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return because(ErrInvalidCredential, "jwt: issued in the future (iat)")
	case errors.Is(err, jwt.InvalidIssuerError()):
		return because(ErrInvalidCredential, "jwt: wrong issuer")
	case errors.Is(err, jwt.InvalidAudienceError()):
		return because(ErrInvalidCredential, "jwt: wrong audience")
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return because(ErrInvalidCredential, "jwt: missing exp")
	case errors.Is(err, errUnknownKid):
		return because(ErrInvalidCredential, "jwt: unknown kid")
	case errors.Is(err, jwt.ValidateError()):
		return because(ErrInvalidCredential, "jwt: claims invalid")
	default:
		return because(ErrInvalidCredential, "jwt: signature or format invalid")
	}
}

func stringClaim(tok jwt.Token, name string) (string, error) {
	if name == jwt.SubjectKey {
		s, _ := tok.Subject()
		return s, nil
	}
	var s string
	if err := tok.Get(name, &s); err != nil {
		return "", err
	}
	return s, nil
}

// group maps the group claim through cfg.Groups; the first value that maps
// wins, else DefaultGroup, else the token is refused.
func (v *JWTVerifier) group(tok jwt.Token) (string, error) {
	if v.cfg.GroupClaim != "" && tok.Has(v.cfg.GroupClaim) {
		var raw any
		if err := tok.Get(v.cfg.GroupClaim, &raw); err == nil {
			switch val := raw.(type) {
			case string:
				if g, ok := v.cfg.Groups[val]; ok {
					return g, nil
				}
			case []any:
				for _, e := range val {
					if s, ok := e.(string); ok {
						if g, ok := v.cfg.Groups[s]; ok {
							return g, nil
						}
					}
				}
			case []string:
				for _, s := range val {
					if g, ok := v.cfg.Groups[s]; ok {
						return g, nil
					}
				}
			}
		}
	}
	if v.cfg.DefaultGroup != "" {
		return v.cfg.DefaultGroup, nil
	}
	return "", because(ErrInvalidCredential, "jwt: no group claim value maps to a key group")
}
