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
		{"df -h /data", "df -h /data"},
		{"cat /etc/resolv.conf", "cat /proc/42/root/etc/resolv.conf"},
		{"cat /sys/fs/cgroup/a/cpu.max /sys/fs/cgroup/a/cpu.stat", "cat /sys/fs/cgroup/a/cpu.max /sys/fs/cgroup/a/cpu.stat"},
		{"dmesg -T | grep -F 'table full'", "dmesg -T | grep -F 'table full'"},
		{"tail -n 200 /var/log/app.log | grep -F 'refused'", "tail -n 200 /proc/42/root/var/log/app.log | grep -F 'refused'"},
		{"tail -n 200 '/var/log/my app.log'", "tail -n 200 '/proc/42/root/var/log/my app.log'"},
		{"journalctl -D /var/log/journal -u api.service --no-pager --since '10 minutes ago'", "journalctl -D /proc/42/root/var/log/journal -u api.service --no-pager --since '10 minutes ago'"},
		{"journalctl -u api.service --no-pager", "journalctl -u api.service --no-pager"},
		{"tail -n 200 app.log", "tail -n 200 app.log"},
		{"", ""},
	} {
		assert.Equal(t, tc.want, insideCommand(42, tc.in), tc.in)
	}
}
