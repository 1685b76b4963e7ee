package container

import (
	"time"

	"github.com/triagekit/triage"
)

// KindCompare is the Check of [Compare]'s results.
const KindCompare = "container.compare"

// Finding codes of [Compare]. Evidence keys: name (triage.KeyName), addr
// (triage.KeyAddr, with its port), pid, and for each side ("inside",
// "host") its addresses, error and nameservers.
const (
	// CodeDNSDiffers: the name resolves differently inside the process's
	// namespaces and on this host: other addresses, or an answer on one
	// side only. Warn. Evidence: name, inside_addrs, host_addrs,
	// inside_error, host_error, inside_nameservers, host_nameservers.
	CodeDNSDiffers triage.Code = "container.dns_differs"
	// CodeReachDiffers: the address connects from one side only. Warn.
	// Evidence: addr, inside_error, host_error.
	CodeReachDiffers triage.Code = "container.reach_differs"
	// CodeSameView: both sides resolve the name alike and reach the
	// address alike. OK.
	CodeSameView triage.Code = "container.same_view"
)

// DefaultCompareTimeout bounds each lookup and connection of [Compare]
// when CompareOptions.Timeout is zero.
const DefaultCompareTimeout = 2 * time.Second

// CompareOptions says what [Compare] looks at from both sides.
type CompareOptions struct {
	// Name is a DNS name to resolve as the application inside does (its
	// resolv.conf and hosts file, its network namespace) and as this
	// host's does.
	Name string
	// Address is a HOST:PORT to connect to from both sides; a name in it
	// is resolved on each side as that side does. Loopback addresses are
	// not compared: 127.0.0.1 is a different host on each side.
	Address string
	// Timeout bounds each lookup and each connection. If zero,
	// DefaultCompareTimeout.
	Timeout time.Duration
}

// CompareResult is what [Compare] saw on each side. Its Check is
// [KindCompare].
type CompareResult struct {
	triage.Result
	// Inside and Host are the two views.
	Inside View `json:"inside"`
	Host   View `json:"host"`
}

// View is one side's answers.
type View struct {
	// Nameservers are the nameservers of the side's resolv.conf.
	Nameservers []string `json:"nameservers,omitempty"`
	// Addrs are the addresses Name resolved to; LookupError why it did
	// not.
	Addrs       []string `json:"addrs,omitempty"`
	LookupError string   `json:"lookup_error,omitempty"`
	// Dialed is the address connected to; Connected whether it
	// connected, and DialError why not.
	Dialed    string        `json:"dialed,omitempty"`
	Connected bool          `json:"connected"`
	DialError string        `json:"dial_error,omitempty"`
	Elapsed   time.Duration `json:"elapsed_ns,omitempty"`
}
