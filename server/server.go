// Package server assembles a running gateway process from a
// configuration: the store, the limiter backend, the audit writer, the
// gateway, and its listeners (public API, admin API, metrics). It reloads
// the configuration on SIGHUP without dropping requests and drains
// in-flight requests on SIGINT/SIGTERM.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/admin"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/version"
	"github.com/rampartsec/rampart/limit"
	"github.com/rampartsec/rampart/secretref"
	"github.com/rampartsec/rampart/store"

	// The built-in detector families register themselves.
	_ "github.com/rampartsec/rampart/detect/builtin"
)

// Options are what the command line adds to the configuration.
type Options struct {
	// ConfigPath is the YAML file; empty runs the embedded default.
	ConfigPath string
	// Listen and DataDir override server.listen and data_dir.
	Listen  string
	DataDir string
	// Logger receives the process log; nil builds one from the config.
	Logger *slog.Logger
	// Ready, when set, is called with the public listener's address once
	// it is accepting connections.
	Ready func(addr net.Addr)
}

// LoadConfig loads the file at path (or the embedded default when path is
// empty) and applies the command-line overrides.
func LoadConfig(path, listen, dataDir string) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if path == "" {
		cfg, err = config.Default()
	} else {
		cfg, err = config.Load(path)
	}
	if err != nil {
		return nil, err
	}
	if listen != "" {
		cfg.Server.Listen = listen
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	return cfg, nil
}

// NewLogger builds the process logger the configuration asks for, writing
// to w.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.ToLower(c.Format) == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// OpenLimiter builds the limiter backend the configuration selects.
func OpenLimiter(ctx context.Context, c config.Limits) (limit.Limiter, error) {
	switch c.Backend {
	case "", "memory":
		return limit.NewMemory(limit.MemoryOptions{}), nil
	case "redis":
		opts, err := redisOptions(ctx, c.Redis)
		if err != nil {
			return nil, err
		}
		client := redis.NewClient(opts)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := client.Ping(pctx).Err(); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("limits: redis at %s: %w", opts.Addr, err)
		}
		l, err := limit.NewRedis(client, limit.RedisOptions{Prefix: c.Redis.Prefix})
		if err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("limits: %w", err)
		}
		return &redisLimiter{Redis: l, client: client}, nil
	}
	return nil, fmt.Errorf("limits: unknown backend %q (want memory or redis)", c.Backend)
}

// redisLimiter closes its client with the limiter.
type redisLimiter struct {
	*limit.Redis
	client *redis.Client
}

func (r *redisLimiter) Close() error {
	err := r.Redis.Close()
	return errors.Join(err, r.client.Close())
}

func redisOptions(ctx context.Context, c config.Redis) (*redis.Options, error) {
	addr := c.Addr
	if secretref.IsReference(addr) {
		s, err := secretref.Resolve(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("limits.redis.addr: %w", err)
		}
		addr = s.Reveal()
	}
	var opts *redis.Options
	if strings.HasPrefix(addr, "redis://") || strings.HasPrefix(addr, "rediss://") {
		o, err := redis.ParseURL(addr)
		if err != nil {
			return nil, errors.New("limits.redis.addr: not a valid redis:// URL")
		}
		opts = o
	} else {
		opts = &redis.Options{Addr: addr, DB: c.DB}
	}
	if c.Password != "" {
		s, err := secretref.Resolve(ctx, c.Password)
		if err != nil {
			return nil, fmt.Errorf("limits.redis.password: %w", err)
		}
		opts.Password = s.Reveal()
	}
	if c.TLS && opts.TLSConfig == nil {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	opts.DialTimeout = 5 * time.Second
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	return opts, nil
}

// Run serves until ctx is cancelled or SIGINT/SIGTERM arrives, reloading
// the configuration on SIGHUP.
func Run(ctx context.Context, opts Options) error {
	cfg, err := LoadConfig(opts.ConfigPath, opts.Listen, opts.DataDir)
	if err != nil {
		return err
	}
	log := opts.Logger
	if log == nil {
		lw := newLogWriter(os.Stderr, 200*time.Millisecond)
		defer lw.Close()
		log = NewLogger(cfg.Log, lw)
	}
	if opts.ConfigPath == "" {
		log.Info("no --config given: running the embedded default configuration", "data_dir", cfg.DataDir)
	}

	st, err := store.Open(ctx, cfg.Store, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()

	lim, err := OpenLimiter(ctx, cfg.Limits)
	if err != nil {
		return err
	}
	defer lim.Close()

	// Audit records go to a local journal first (one write per request,
	// recovered after a crash) and are shipped into the store's chain in
	// batches; opening it recovers the journals of dead processes.
	var aw *audit.Journal
	if !cfg.Audit.Disabled {
		aw, err = audit.OpenJournal(ctx, filepath.Join(cfg.DataDir, audit.JournalDirName), st,
			audit.JournalOptions{Fsync: cfg.Audit.Fsync, Logger: log})
		if err != nil {
			return fmt.Errorf("audit journal: %w", err)
		}
	}
	closeAudit := sync.OnceValue(func() error {
		if aw == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return aw.Close(ctx)
	})
	defer closeAudit() // on error paths; shutdown closes it first otherwise

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	deps := gateway.Deps{Store: st, Limiter: lim, Logger: log, Registerer: reg, Version: version.Get().Version}
	if aw != nil {
		// Not a typed nil in the interface: with the audit log disabled
		// the gateway must see no appender at all.
		deps.Audit = aw
	}
	gw, err := gateway.New(ctx, cfg, deps)
	if err != nil {
		return err
	}
	defer gw.Close()
	shutdownTracing, err := startTracing(ctx, cfg.Tracing)
	if err != nil {
		return err
	}
	if shutdownTracing != nil {
		defer shutdownTracing(context.Background())
	}

	public := http.NewServeMux()
	public.Handle("/", traced(gw.Handler(), shutdownTracing != nil))
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if !cfg.Metrics.Disabled && cfg.Metrics.Listen == "" {
		public.Handle("GET /metrics", metricsHandler)
	}
	var adminHandler http.Handler
	if cfg.Admin.Token != "" {
		tok, err := secretref.Resolve(ctx, cfg.Admin.Token)
		if err != nil {
			return fmt.Errorf("admin.token: %w", err)
		}
		adminHandler, err = admin.New(admin.Options{
			Keys:   auth.NewKeyService(st, nil),
			Token:  tok,
			Logger: log,
			OnAction: func(ctx context.Context, action, target, actor string) {
				if aw == nil {
					return
				}
				if err := aw.Append(context.WithoutCancel(ctx), audit.AdminRecord(action, target, actor)); err != nil {
					log.Error("audit record of an admin action not written", "action", action, "err", err)
				}
			},
		})
		if err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		if cfg.Admin.Listen == "" {
			public.Handle("/admin/", adminHandler)
		}
	}

	servers := []*http.Server{newServer(cfg, public, log)}
	servers[0].Addr = cfg.Server.Listen
	if adminHandler != nil && cfg.Admin.Listen != "" {
		s := newServer(cfg, adminHandler, log)
		s.Addr = cfg.Admin.Listen
		servers = append(servers, s)
	}
	if !cfg.Metrics.Disabled && cfg.Metrics.Listen != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		s := newServer(cfg, mux, log)
		s.Addr = cfg.Metrics.Listen
		servers = append(servers, s)
	}

	errc := make(chan error, len(servers))
	for i, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", s.Addr, err)
		}
		log.Info("listening", "addr", ln.Addr().String(), "role", []string{"api", "admin", "metrics"}[min(i, 2)])
		if i == 0 && opts.Ready != nil {
			opts.Ready(ln.Addr())
		}
		go func(s *http.Server, ln net.Listener) {
			var err error
			if cfg.Server.TLSCertFile != "" && cfg.Server.TLSKeyFile != "" {
				err = s.ServeTLS(ln, cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile)
			} else {
				err = s.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(s, ln)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			return shutdown(cfg, servers, gw, closeAudit, log)
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				log.Info("shutting down", "signal", sig.String())
				return shutdown(cfg, servers, gw, closeAudit, log)
			}
			if opts.ConfigPath == "" {
				log.Info("SIGHUP: running the embedded default; nothing to reload")
				continue
			}
			next, err := LoadConfig(opts.ConfigPath, opts.Listen, opts.DataDir)
			if err == nil {
				err = gw.Reload(ctx, next)
			}
			if err != nil {
				log.Error("configuration reload failed; keeping the running configuration", "err", err)
				continue
			}
			log.Info("configuration reloaded", "path", opts.ConfigPath)
		}
	}
}

func newServer(cfg *config.Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// shutdown stops accepting, waits for in-flight requests (streams
// included) up to server.shutdown_timeout, then drains the audit writer.
func shutdown(cfg *config.Config, servers []*http.Server, gw *gateway.Gateway, closeAudit func() error, log *slog.Logger) error {
	gw.SetReady(false)
	timeout := cfg.Server.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown %s: %w", s.Addr, err))
		}
	}
	if err := closeAudit(); err != nil {
		errs = append(errs, fmt.Errorf("audit: %w", err))
	}
	if len(errs) == 0 {
		log.Info("stopped")
	}
	return errors.Join(errs...)
}
