package triage

// Evidence keys that mean the same thing in every package. A check that
// records one of these facts uses these keys, and only for this meaning;
// the classifier fills the {placeholders} of its next commands from them.
// Keys of one package's own measurements are documented with its codes.
const (
	// KeyPort is a TCP or UDP port number.
	KeyPort = "port"
	// KeyAddr is an IP address, or an address and port ("10.0.0.7:5432").
	KeyAddr = "addr"
	// KeyHost is a host as given: a name or an address literal.
	KeyHost = "host"
	// KeyURL is a URL, with any password removed.
	KeyURL = "url"
	// KeyName is a DNS name.
	KeyName = "name"
	// KeyProcess is a process name, as in /proc/PID/comm.
	KeyProcess = "process"
	// KeyPID is a process id.
	KeyPID = "pid"
	// KeyPath is a file or directory.
	KeyPath = "path"
	// KeyCgroup is a cgroup path, as in /proc/PID/cgroup.
	KeyCgroup = "cgroup"
	// KeyUnit is a systemd unit.
	KeyUnit = "unit"
	// KeyNetNS is a network namespace, by the inode number the kernel
	// names it with in its messages and in /proc/PID/ns/net
	// ("net:[4026531840]").
	KeyNetNS = "netns"
)
