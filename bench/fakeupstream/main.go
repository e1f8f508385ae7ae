// Command fakeupstream serves internal/fakeupstream, a fast stand-in for an
// OpenAI-compatible provider, on a TCP address, so that the load benchmark
// can run it in a process of its own and measure its CPU time apart.
//
// It requires the credential in the environment variable
// BENCH_UPSTREAM_KEY (clients send "Authorization: Bearer KEY"; empty
// accepts anything) and logs one JSON line {"msg":"listening","addr":...}
// to stderr once it accepts connections.
//
// Usage:
//
//	fakeupstream [-listen 127.0.0.1:0] [-reply-file FILE] [-chunk-bytes 4]
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/rampartsec/rampart/bench/internal/serve"
	"github.com/rampartsec/rampart/internal/fakeupstream"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	replyFile := flag.String("reply-file", "", "file holding the reply text (default: the fake's short greeting)")
	chunkBytes := flag.Int("chunk-bytes", 4, "bytes of reply text per streamed chunk")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(*listen, *replyFile, *chunkBytes, log); err != nil {
		log.Error("fakeupstream failed", "err", err)
		os.Exit(1)
	}
}

func run(listen, replyFile string, chunkBytes int, log *slog.Logger) error {
	if chunkBytes <= 0 {
		return fmt.Errorf("-chunk-bytes must be positive, got %d", chunkBytes)
	}
	var reply string
	if replyFile != "" {
		b, err := os.ReadFile(replyFile)
		if err != nil {
			return fmt.Errorf("read reply: %w", err)
		}
		reply = string(b)
	}
	fake := fakeupstream.New(os.Getenv("BENCH_UPSTREAM_KEY"), false)
	fake.Set(fakeupstream.Behaviour{Reply: reply, ChunkSize: chunkBytes})

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// No ReadHeaderTimeout: a Go server arms it from accept, so a pooled
	// connection that the proxy's or the gateway's transport dialled but
	// did not use at once would be dropped after it, and its first request
	// would fail. A loopback fake needs no protection from slow clients.
	srv := &http.Server{Handler: fake}
	log.Info("listening", "addr", ln.Addr().String())

	return serve.UntilSignal(srv, ln)
}
