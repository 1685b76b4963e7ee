package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInsideCommand(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ss -lntp 'sport = :8080'", "nsenter -t 42 -n ss -lntp 'sport = :8080'"},
		{"curl -v -o /dev/null 'http://127.0.0.1:8080/'", "nsenter -t 42 -n curl -v -o /dev/null 'http://127.0.0.1:8080/'"},
		{"conntrack -S; sysctl net.netfilter.nf_conntrack_count", `nsenter -t 42 -n sh -c 'conntrack -S; sysctl net.netfilter.nf_conntrack_count'`},
		{"ss -ant state time-wait | awk '{print $4}'", `nsenter -t 42 -n sh -c 'ss -ant state time-wait | awk '\''{print $4}'\'''`},
		{"df -h /data", "nsenter -t 42 -m df -h /data"},
		{"cat /etc/resolv.conf", "cat /proc/42/root/etc/resolv.conf"},
		{"cat /sys/fs/cgroup/a/cpu.max /sys/fs/cgroup/a/cpu.stat", "cat /sys/fs/cgroup/a/cpu.max /sys/fs/cgroup/a/cpu.stat"},
		{"dmesg -T | grep -F 'table full'", "dmesg -T | grep -F 'table full'"},
		{"tail -n 200 /var/log/app.log | grep -F 'refused'", "tail -n 200 /proc/42/root/var/log/app.log | grep -F 'refused'"},
		{"tail -n 200 '/var/log/my app.log'", "tail -n 200 '/proc/42/root/var/log/my app.log'"},
		{"journalctl -D /var/log/journal -u api.service --no-pager --since '10 minutes ago'", "journalctl -D /proc/42/root/var/log/journal -u api.service --no-pager --since '10 minutes ago'"},
		{"journalctl -u api.service --no-pager", "journalctl -u api.service --no-pager"},
		{"tail -n 200 app.log", "tail -n 200 app.log"},
		{"df -h /mnt/data; sleep 10; df -h /mnt/data", "nsenter -t 42 -m df -h /mnt/data; sleep 10; nsenter -t 42 -m df -h /mnt/data"},
		{"du -xsh /mnt/data/* | sort -h", "du -xsh /proc/42/root/mnt/data/* | sort -h"},
		{"find /mnt/data -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n | tail", "find /proc/42/root/mnt/data -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n | tail"},
		{"findmnt -o TARGET,OPTIONS /mnt/data", "findmnt -N 42 -o TARGET,OPTIONS /mnt/data"},
		{"touch /mnt/data/.triage-probe && rm /mnt/data/.triage-probe", "touch /proc/42/root/mnt/data/.triage-probe && rm /proc/42/root/mnt/data/.triage-probe"},
		{"cat /proc/42/root/proc/pressure/memory", "cat /proc/42/root/proc/pressure/memory"},
		{"grep -e VmSwap -e Name /proc/42/status", "grep -e VmSwap -e Name /proc/42/status"},
		{"tail -n 200 /var/log/app.log | grep -E 'ERROR|FATAL /x'", "tail -n 200 /proc/42/root/var/log/app.log | grep -E 'ERROR|FATAL /x'"},
		{"curl -v -o /dev/null 'http://127.0.0.1/a b'", "nsenter -t 42 -n curl -v -o /dev/null 'http://127.0.0.1/a b'"},
		{"", ""},
	} {
		assert.Equal(t, tc.want, insideCommand(inputContainer{PID: 42}, tc.in), tc.in)
	}
}

// TestInsideCommandNetNS: with -netns the network commands run in the
// namespace by its name, or by its file, and files stay this host's.
func TestInsideCommandNetNS(t *testing.T) {
	named := inputContainer{NetNSName: "blue"}
	file := inputContainer{NetNSName: "/var/run/netns/cni-1 2"}
	for _, tc := range []struct {
		ns       inputContainer
		in, want string
	}{
		{named, "ss -lntp 'sport = :8080'", "ip netns exec blue ss -lntp 'sport = :8080'"},
		{named, "conntrack -S; sysctl net.netfilter.nf_conntrack_count", `ip netns exec blue sh -c 'conntrack -S; sysctl net.netfilter.nf_conntrack_count'`},
		{file, "curl -v -o /dev/null 'http://127.0.0.1:8080/'", "nsenter --net='/var/run/netns/cni-1 2' curl -v -o /dev/null 'http://127.0.0.1:8080/'"},
		{named, "cat /etc/resolv.conf", "cat /etc/resolv.conf"},
		{named, "df -h /data", "df -h /data"},
	} {
		assert.Equal(t, tc.want, insideCommand(tc.ns, tc.in), tc.in)
	}
}
