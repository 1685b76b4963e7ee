package main

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clients that hold many keep-alive connections open and idle cannot take
// every connection the service has: past three quarters of -max-conns, a
// connection is closed once its response is sent, and a new probe is
// still answered.
func TestIdleConnectionsShed(t *testing.T) {
	const maxConns, clients = 64, 200
	s := start(t, "-log", filepath.Join(t.TempDir(), "requests.log"), "-max-conns", "64")
	addr := strings.TrimPrefix(s.url, "http://")

	conns := make([]net.Conn, clients)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		conns[i] = c
		_, err = c.Write([]byte("GET /livez HTTP/1.1\r\nHost: healthserver\r\n\r\n"))
		require.NoError(t, err)
	}
	// Every client is answered, those beyond the cap as others close.
	var wg sync.WaitGroup
	open := make(chan bool, clients)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(time.Minute))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if !assert.NoError(t, err) {
				return
			}
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			// Still open when a read waits rather than meets the end.
			_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err = br.ReadByte()
			open <- errors.Is(err, os.ErrDeadlineExceeded)
		}()
	}
	wg.Wait()
	close(open)
	n := 0
	for o := range open {
		if o {
			n++
		}
	}
	assert.LessOrEqual(t, n, maxConns*3/4, "idle connections kept open")
	assert.Positive(t, n, "keep-alive still works below the mark")

	code, body := s.get(t, "/livez", "")
	assert.Equal(t, http.StatusOK, code, "a new probe is answered while they are held")
	assert.Equal(t, "ok\n", body)
}

// Every phase of a request is bounded, and the listener is capped below
// the file limit.
func TestServerSettings(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	srv, capped := newServer(http.NotFoundHandler(), ln, config{maxConns: 1 << 30, timeout: time.Minute})
	assert.Positive(t, srv.ReadHeaderTimeout)
	assert.Positive(t, srv.ReadTimeout)
	assert.Greater(t, srv.WriteTimeout, time.Minute, "longer than a round of checks")
	assert.Positive(t, srv.IdleTimeout)
	assert.Positive(t, srv.MaxHeaderBytes)
	assert.Less(t, srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
	assert.NotNil(t, srv.ConnState)
	assert.NotSame(t, ln, capped, "the listener is capped")
}
