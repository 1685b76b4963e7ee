package container_test

import (
	"context"
	"fmt"
	"time"

	"github.com/triagekit/triage/container"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/sockstat"
)

// The request, the socket check and the application's view of a name,
// all from inside the namespaces of process 1234: 127.0.0.1 is its own
// loopback, and its resolv.conf is read inside its root.
func Example() {
	ctr, err := container.Open(1234)
	if err != nil {
		fmt.Println(err) // container.ErrGone, or os.ErrPermission without CAP_SYS_ADMIN
		return
	}
	defer ctr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req := probe.HTTP(ctx, probe.HTTPOptions{URL: "http://127.0.0.1:8080/health", Dialer: ctr})
	socks := sockstat.Check(ctx, sockstat.Options{Port: 8080, NetNS: ctr.NetNSPath()})
	fmt.Println(req.Status, socks.Status)

	rc, err := ctr.Open("/etc/resolv.conf")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rc.Close()
	dns := dnscheck.Check(ctx, dnscheck.Options{Name: "db.internal",
		ResolvConf: fmt.Sprintf("/proc/self/fd/%d", rc.Fd()), Dialer: ctr})
	fmt.Println(dns.Status)
}
