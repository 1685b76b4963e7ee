package probe_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	_ "modernc.org/sqlite"

	"github.com/triagekit/triage/probe"
)

// A port nothing listens on is refused; the attempt says so by class, so
// a caller need not read error text.
func ExampleTCP() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := probe.TCP(ctx, probe.TCPOptions{Address: addr})
	for _, a := range r.Attempts {
		fmt.Println("connected:", a.Connected, "class:", a.Class)
	}
	for _, f := range r.Findings {
		fmt.Println(f.Status, f.Code)
	}
	// Output:
	// connected: false class: refused
	// fail tcp.refused
}

// A gateway answering 502 with a proxy's Server header: the failing layer
// is behind the proxy. The pinned name needs no DNS, like curl --resolve.
func ExampleHTTP() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx")
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	r := probe.HTTP(context.Background(), probe.HTTPOptions{
		URL:     "http://api.example.invalid:" + port + "/health",
		Resolve: []string{"api.example.invalid:" + port + ":127.0.0.1"},
	})
	h := r.Attempts[0].Last()
	fmt.Println(h.StatusCode, h.Header.Get("Server"))
	t := h.Timings
	fmt.Println("phases add up:", t.DNS+t.Connect+t.TLS+t.Wait+t.Transfer == t.Total)
	f := r.Findings[0]
	proxy, _ := f.Evidence.Lookup("proxy")
	fmt.Println(f.Status, f.Code, "proxy:", proxy)
	// Output:
	// 502 nginx
	// phases add up: true
	// fail http.status_5xx proxy: true
}

// A pool of one connection, held: the probe's ping cannot get a
// connection, which is the pool's fault, not the database's.
func ExampleDB() {
	db, _ := sql.Open("sqlite", ":memory:")
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, _ := db.Conn(context.Background())
	defer conn.Close()

	r := probe.DB(context.Background(), db, probe.DBOptions{
		Interval:    50 * time.Millisecond,
		PingTimeout: 50 * time.Millisecond,
	})
	fmt.Println(r.After.InUse, "of", r.After.MaxOpen, "in use")
	for _, f := range r.Findings {
		fmt.Println(f.Status, f.Code)
	}
	// Output:
	// 1 of 1 in use
	// fail db.pool_exhausted
}
