// Command proxy is the load benchmark's baseline: a bare
// net/http/httputil reverse proxy to one upstream, with nothing else — no
// authentication, inspection, limits, logging or metrics. It runs in a
// process of its own so that its CPU time can be measured apart.
//
// Its transport keeps as many idle connections to the upstream as the
// gateway's does (1024), so that neither pays for new connections under
// bursts. It logs one JSON line {"msg":"listening","addr":...} to stderr
// once it accepts connections.
//
// Usage:
//
//	proxy -upstream http://127.0.0.1:PORT [-listen 127.0.0.1:0]
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/rampartsec/rampart/bench/internal/serve"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "base URL of the upstream, e.g. http://127.0.0.1:9000 (required)")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(*listen, *upstream, log); err != nil {
		log.Error("proxy failed", "err", err)
		os.Exit(1)
	}
}

func run(listen, upstream string, log *slog.Logger) error {
	if upstream == "" {
		return errors.New("-upstream is required")
	}
	u, err := url.Parse(upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-upstream %q is not an http(s) URL", upstream)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 1024
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		FlushInterval: -1,
		Transport:     tr,
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Full duplex: without it the HTTP/1 server closes the request body as
	// soon as the answer starts, which races the transport's last read of
	// that body (to EOF, after Content-Length bytes); when the race is lost
	// the transport drops the upstream connection mid-stream
	// (golang/go#40747). Under load this broke about 1 stream in 200.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("listening", "addr", ln.Addr().String())

	return serve.UntilSignal(srv, ln)
}
