// Package vault resolves "vault:" secret references from HashiCorp Vault's
// KV version 2 secrets engine through the official client
// (github.com/hashicorp/vault/api), and gives other packages (the Transit
// key wrapper) an authenticated client.
//
// Importing the package registers the scheme with package secretref:
//
//	import _ "github.com/rampartsec/rampart/secretref/vault"
//
// A reference names a field of a secret, optionally at a version:
//
//	vault:secret/llm/openai#api_key
//	vault:secret/llm/openai?version=3#api_key
//
// The client is configured from the environment as Vault's own tools are
// (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_CAPATH,
// VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_MAX_RETRIES,
// …). When VAULT_ROLE_ID is set it logs in with AppRole instead of using
// VAULT_TOKEN: the secret ID comes from VAULT_SECRET_ID or from the file
// named by VAULT_SECRET_ID_FILE, and VAULT_APPROLE_MOUNT names the auth
// mount (default "approle"). An AppRole token is renewed when two thirds
// of its TTL have passed, and the client logs in again when renewal fails
// or Vault answers 403.
//
// Errors name references, paths and HTTP statuses, never secret values,
// secret IDs or tokens.
package vault

import (
	"github.com/rampartsec/rampart/internal/smallfile"

	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/rampartsec/rampart/secretref"
)

func init() {
	secretref.RegisterScheme("vault", resolve)
}

// DefaultTimeout bounds one Vault call when the caller's context has no
// deadline.
const DefaultTimeout = 30 * time.Second

// maxSecretIDFile bounds VAULT_SECRET_ID_FILE.
const maxSecretIDFile = 4 << 10

// AppRole holds AppRole login credentials.
type AppRole struct {
	// Mount is the auth mount path, default "approle".
	Mount    string
	RoleID   string
	SecretID string
}

// Client reads Vault with a token, logging in with AppRole when
// configured. It is safe for concurrent use.
type Client struct {
	api     *api.Client
	approle *AppRole
	now     func() time.Time

	mu        sync.Mutex
	loggedIn  bool
	renewAt   time.Time // zero: the token needs no renewal
	expires   time.Time
	renewable bool
}

// NewClient returns a Client using c. With approle nil, c's token (from
// VAULT_TOKEN or SetToken) is used as it is; otherwise the client logs in
// with AppRole before its first request.
func NewClient(c *api.Client, approle *AppRole) *Client {
	if approle != nil {
		a := *approle
		if a.Mount == "" {
			a.Mount = "approle"
		}
		approle = &a
		c.ClearToken()
	}
	return &Client{api: c, approle: approle, now: time.Now}
}

// FromEnvironment returns a Client configured as Vault's tools are, from
// VAULT_* environment variables (see the package documentation).
func FromEnvironment() (*Client, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault: configuration from the environment: %w", cfg.Error)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: client: %w", err)
	}
	roleID := os.Getenv("VAULT_ROLE_ID")
	if roleID == "" {
		if c.Token() == "" {
			return nil, errors.New("vault: no credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID (or VAULT_SECRET_ID_FILE)")
		}
		return NewClient(c, nil), nil
	}
	secretID := os.Getenv("VAULT_SECRET_ID")
	if f := os.Getenv("VAULT_SECRET_ID_FILE"); secretID == "" && f != "" {
		secretID, err = readSecretIDFile(f)
		if err != nil {
			return nil, err
		}
	}
	if secretID == "" {
		return nil, errors.New("vault: VAULT_ROLE_ID is set but neither VAULT_SECRET_ID nor VAULT_SECRET_ID_FILE is")
	}
	return NewClient(c, &AppRole{Mount: os.Getenv("VAULT_APPROLE_MOUNT"), RoleID: roleID, SecretID: secretID}), nil
}

func readSecretIDFile(path string) (string, error) {
	b, err := smallfile.Read(path, maxSecretIDFile)
	if err != nil {
		return "", fmt.Errorf("vault: VAULT_SECRET_ID_FILE: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// API returns the underlying client with a valid token, logging in or
// renewing first when needed.
func (c *Client) API(ctx context.Context) (*api.Client, error) {
	if err := c.ensureToken(ctx, false); err != nil {
		return nil, err
	}
	return c.api, nil
}

// Do calls f with an authenticated client. When Vault answers 403 and
// the client uses AppRole, it logs in again and calls f once more (the
// token may have been revoked or have expired early).
func (c *Client) Do(ctx context.Context, f func(ctx context.Context, a *api.Client) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if err := c.ensureToken(ctx, false); err != nil {
		return err
	}
	err := f(ctx, c.api)
	var re *api.ResponseError
	if c.approle != nil && errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		if err := c.ensureToken(ctx, true); err != nil {
			return err
		}
		err = f(ctx, c.api)
	}
	return err
}

// ensureToken logs in (AppRole) when there is no token, the token is past
// its renewal time and cannot be renewed, or force is set.
func (c *Client) ensureToken(ctx context.Context, force bool) error {
	if c.approle == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.loggedIn && !force && (c.renewAt.IsZero() || now.Before(c.renewAt)) {
		return nil
	}
	if c.loggedIn && !force && c.renewable && now.Before(c.expires) {
		s, err := c.api.Auth().Token().RenewSelfWithContext(ctx, 0)
		if err == nil && s != nil && s.Auth != nil {
			c.setLease(now, s.Auth)
			return nil
		}
		// Fall through to a new login.
	}
	return c.login(ctx, now)
}

func (c *Client) login(ctx context.Context, now time.Time) error {
	c.loggedIn = false
	c.api.ClearToken()
	path := "auth/" + strings.Trim(c.approle.Mount, "/") + "/login"
	s, err := c.api.Logical().WriteWithContext(ctx, path, map[string]any{
		"role_id":   c.approle.RoleID,
		"secret_id": c.approle.SecretID,
	})
	if err != nil {
		return fmt.Errorf("vault: AppRole login at %s: %s", path, Describe(err))
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("vault: AppRole login at %s: the response has no client token", path)
	}
	c.api.SetToken(s.Auth.ClientToken)
	c.setLease(now, s.Auth)
	c.loggedIn = true
	return nil
}

func (c *Client) setLease(now time.Time, a *api.SecretAuth) {
	c.renewable = a.Renewable
	if a.LeaseDuration <= 0 {
		c.renewAt, c.expires = time.Time{}, time.Time{}
		return
	}
	ttl := time.Duration(a.LeaseDuration) * time.Second
	c.expires = now.Add(ttl)
	c.renewAt = now.Add(ttl * 2 / 3)
}

// Read returns the field r.Field of the KV v2 secret r names.
func (c *Client) Read(ctx context.Context, r Ref) (string, error) {
	var kv *api.KVSecret
	err := c.Do(ctx, func(ctx context.Context, a *api.Client) error {
		var err error
		if r.Version > 0 {
			kv, err = a.KVv2(r.Mount).GetVersion(ctx, r.Path, r.Version)
		} else {
			kv, err = a.KVv2(r.Mount).Get(ctx, r.Path)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, api.ErrSecretNotFound) {
			return "", fmt.Errorf("vault: %s/data/%s: secret not found", r.Mount, r.Path)
		}
		return "", fmt.Errorf("vault: read %s/data/%s: %s", r.Mount, r.Path, Describe(err))
	}
	if kv == nil || kv.Data == nil {
		return "", fmt.Errorf("vault: %s/data/%s: the secret has no data (deleted or destroyed version?)", r.Mount, r.Path)
	}
	v, ok := kv.Data[r.Field]
	if !ok {
		return "", fmt.Errorf("vault: %s/data/%s: no field %q", r.Mount, r.Path, r.Field)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("vault: %s/data/%s: field %q is a %T, not a string", r.Mount, r.Path, r.Field, v)
	}
	if s == "" {
		return "", fmt.Errorf("vault: %s/data/%s: field %q is empty", r.Mount, r.Path, r.Field)
	}
	return s, nil
}

// Describe renders an error from the Vault client on one line: for a
// response error the method, path, status and Vault's messages (bounded),
// never the request's token or body.
func Describe(err error) string {
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return bound(err.Error())
	}
	path := re.URL
	if i := strings.Index(path, "/v1/"); i >= 0 {
		path = path[i:]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	msg := fmt.Sprintf("%s %s: HTTP %d", re.HTTPMethod, path, re.StatusCode)
	if len(re.Errors) > 0 && !re.RawError {
		msg += ": " + strings.Join(re.Errors, "; ")
	}
	return bound(msg)
}

func bound(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

var def struct {
	mu  sync.Mutex
	key [32]byte
	c   *Client
}

// Default returns the process's Client built by FromEnvironment. It is
// built again when the VAULT_* environment has changed since.
func Default() (*Client, error) {
	h := sha256.New()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VAULT_") {
			h.Write([]byte(kv))
			h.Write([]byte{0})
		}
	}
	var key [32]byte
	h.Sum(key[:0])
	def.mu.Lock()
	defer def.mu.Unlock()
	if def.c != nil && def.key == key {
		return def.c, nil
	}
	c, err := FromEnvironment()
	if err != nil {
		return nil, err
	}
	def.c, def.key = c, key
	return c, nil
}

func resolve(ctx context.Context, ref string) (string, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	c, err := Default()
	if err != nil {
		return "", err
	}
	return c.Read(ctx, r)
}
