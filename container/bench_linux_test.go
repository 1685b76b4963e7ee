//go:build linux

package container

import (
	"context"
	"net"
	"testing"

	"github.com/triagekit/triage/internal/testnet"
)

// BenchmarkDial compares a TCP connect to a loopback listener made from
// this goroutine with the same made from inside a network namespace
// through DialContext, which starts a thread for it and ends it after.
func BenchmarkDial(b *testing.B) {
	ns := testnet.New(b)
	c, err := OpenNetNS(ns.Path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	listen := func(do func(func() error) error) net.Listener {
		var ln net.Listener
		if err := do(func() (err error) {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
			return err
		}); err != nil {
			b.Fatal(err)
		}
		go acceptAndClose(ln)
		return ln
	}
	here := listen(func(f func() error) error { return f() })
	defer here.Close()
	inside := listen(func(f func() error) error { return c.Do(context.Background(), f) })
	defer inside.Close()
	ctx := context.Background()
	b.Run("here", func(b *testing.B) {
		b.ReportAllocs()
		var d net.Dialer
		for b.Loop() {
			conn, err := d.DialContext(ctx, "tcp", here.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			conn.Close()
		}
	})
	b.Run("inside", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			conn, err := c.DialContext(ctx, "tcp", inside.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			conn.Close()
		}
	})
}
