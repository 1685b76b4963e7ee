//go:build linux

package testnet_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testnet"
)

func TestIntegrationNamespaceIsolatesSockets(t *testing.T) {
	ns := testnet.New(t)
	var ln net.Listener
	require.NoError(t, ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}))
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	// From the host's namespace the port is not there.
	_, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	if err == nil {
		t.Logf("port %d happens to be open on the host too", port)
	}
	// From inside it is.
	require.NoError(t, ns.Do(func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}))
	assert.Contains(t, ns.Exec(t, "ss", "-Hltn"), ln.Addr().String())
}
