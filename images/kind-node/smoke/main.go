// Command smoke is the environment check's probe target: an HTTP server whose
// /ready answers 200 once it has been up for READY_AFTER (default 0s), so a
// readiness probe on it proves the kubelet, the pod network and probes work.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	started := time.Now()
	delay, err := time.ParseDuration(os.Getenv("READY_AFTER"))
	if err != nil {
		delay = 0
	}
	http.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if time.Since(started) < delay {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = ":8080"
	}
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
