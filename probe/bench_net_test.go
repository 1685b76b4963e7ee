package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
)

// BenchmarkTCP connects to a loopback listener that accepts and closes.
func BenchmarkTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	defer func() { _ = ln.Close(); <-done }()
	opts := TCPOptions{Address: ln.Addr().String()}
	b.ReportAllocs()
	for b.Loop() {
		if r := TCP(context.Background(), opts); !r.Has(CodeTCPConnected) {
			b.Fatal(r.Findings, r.Err)
		}
	}
}

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkHTTP is one GET on a fresh connection, as curl makes it.
func BenchmarkHTTP(b *testing.B) {
	srv := benchServer(b)
	opts := HTTPOptions{URL: srv.URL + "/health"}
	b.ReportAllocs()
	for b.Loop() {
		if r := HTTP(context.Background(), opts); !r.Has(CodeHTTPOK) {
			b.Fatal(r.Findings, r.Err)
		}
	}
}

// BenchmarkCurl runs curl -s -o /dev/null against the same kind of server,
// for the side-by-side figure.
func BenchmarkCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl is not installed")
	}
	srv := benchServer(b)
	for b.Loop() {
		if err := exec.Command(curl, "-s", "-o", "/dev/null", srv.URL+"/health").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
