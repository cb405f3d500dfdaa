// The example service: an HTTP server that says which revision it runs, has a
// health endpoint, and stops cleanly and promptly on SIGTERM (as PID 1 it gets
// no default signal handlers, so it must handle the signal itself).
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	revision := getenv("REVISION", "unknown")
	port := getenv("PORT", "8080")
	if os.Getenv("CRASH_AT_BOOT") == "1" {
		log.Fatalf("revision %s: CRASH_AT_BOOT=1, exiting at boot", revision)
	}
	if d, err := time.ParseDuration(os.Getenv("BOOT_DELAY")); err == nil {
		time.Sleep(d) // stands in for an app that takes a while to boot
	}
	if d, err := time.ParseDuration(os.Getenv("CRASH_AFTER")); err == nil {
		go func() { // stands in for an app that falls over
			time.Sleep(d)
			log.Fatalf("revision %s: CRASH_AFTER=%s, exiting", revision, d)
		}()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n", revision)
	})
	var failHealth atomic.Bool
	mux.HandleFunc("/admin/fail-health", func(w http.ResponseWriter, r *http.Request) {
		// For supervision tests: from now on /health fails, until a restart.
		failHealth.Store(true)
		fmt.Fprintln(w, "health now fails")
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if failHealth.Load() || os.Getenv("HEALTH") == "fail" {
			http.Error(w, "unhealthy\n", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	var held [][]byte
	mux.HandleFunc("/admin/alloc", func(w http.ResponseWriter, r *http.Request) {
		// For memory-limit tests: allocate and touch ?mb= MiB, and keep it.
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		for i := 0; i < mb; i++ {
			chunk := make([]byte, 1<<20)
			for j := range chunk {
				chunk[j] = 1
			}
			held = append(held, chunk)
		}
		fmt.Fprintf(w, "holding %d MiB\n", len(held))
	})
	mux.HandleFunc("/admin/log", func(w http.ResponseWriter, r *http.Request) {
		// For log-rotation tests: write ?mb= MiB of log lines to stdout.
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		line := []byte(strings.Repeat("x", 1023) + "\n")
		out := bufio.NewWriterSize(os.Stdout, 1<<16)
		for i := 0; i < mb*1024; i++ {
			out.Write(line)
		}
		out.Flush()
		fmt.Fprintf(w, "wrote %d MiB\n", mb)
	})
	mux.HandleFunc("/env/", func(w http.ResponseWriter, r *http.Request) {
		// For tests of env delivery: the raw value of one variable.
		name := r.URL.Path[len("/env/"):]
		value, ok := os.LookupEnv(name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(value))
	})

	server := &http.Server{Addr: ":" + port, Handler: mux}
	stop := make(chan os.Signal, 1)
	// SIGQUIT too, for apps whose graceful stop is not SIGTERM (stopSignal).
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	go func() {
		sig := <-stop
		log.Printf("revision %s: %s received, finishing requests in flight", revision, sig)
		if path := os.Getenv("SIGNAL_LOG"); path != "" {
			// For stop-signal tests: the log above goes with the container, a file in a volume stays.
			if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintf(f, "%s %s\n", revision, sig)
				f.Close()
			}
		}
		if d, err := time.ParseDuration(os.Getenv("DRAIN_TIME")); err == nil {
			// Stands in for an app that drains: it keeps answering (new
			// connections too) while a load balancer stops sending it any.
			log.Printf("revision %s: draining for %s", revision, d)
			time.Sleep(d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	}()

	log.Printf("revision %s: listening on :%s", revision, port)
	if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	log.Printf("revision %s: stopped", revision)
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
