// Command gateway authenticates callers and forwards them to the model server.
package main

import (
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"

	"golang.org/x/time/rate"
)

func main() {
	upstream, err := url.Parse(os.Getenv("UPSTREAM_URL"))
	if err != nil {
		log.Fatalf("UPSTREAM_URL: %v", err)
	}
	limiter := rate.NewLimiter(50, 100)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	http.Handle("/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !limiter.Allow() {
			http.Error(w, "rate limited", http.StatusTooManyRequests)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	log.Fatal(http.ListenAndServe(":8080", nil))
}
