//go:build linux

// Package testjournal writes real systemd journal files for tests, so that
// the real journalctl reads entries a test chose, with the units,
// priorities and timestamps it chose, from a directory of its own.
package testjournal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Entry is one journal entry.
type Entry struct {
	// At is the entry's realtime timestamp.
	At time.Time
	// Unit is _SYSTEMD_UNIT, such as "api.service".
	Unit string
	// Priority is the syslog priority, 0 (emerg) to 7 (debug).
	Priority int
	// Message is MESSAGE; it may span lines.
	Message string
	// Fields are more fields, such as SYSLOG_IDENTIFIER.
	Fields map[string]string
}

// Write turns entries into a journal file in dir with
// systemd-journal-remote, which reads the Journal Export Format. It skips
// the test when systemd-journal-remote or journalctl is missing.
func Write(t testing.TB, dir string, entries []Entry) {
	t.Helper()
	var remote string
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			remote = p
		}
	}
	if remote == "" {
		t.Skip("needs systemd-journal-remote (Debian package systemd-journal-remote) to write journal files")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("needs journalctl")
	}
	var b bytes.Buffer
	field := func(k, v string) {
		if !strings.Contains(v, "\n") {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
			return
		}
		// Multi-line values are written in the binary form.
		b.WriteString(k + "\n")
		_ = binary.Write(&b, binary.LittleEndian, uint64(len(v)))
		b.WriteString(v + "\n")
	}
	for i, e := range entries {
		field("__CURSOR", fmt.Sprintf("s=0;i=%x", i+1))
		field("__REALTIME_TIMESTAMP", fmt.Sprint(e.At.UnixMicro()))
		field("__MONOTONIC_TIMESTAMP", fmt.Sprint(i+1))
		field("_BOOT_ID", "0123456789abcdef0123456789abcdef")
		field("_SYSTEMD_UNIT", e.Unit)
		field("PRIORITY", fmt.Sprint(e.Priority))
		field("MESSAGE", e.Message)
		for k, v := range e.Fields {
			field(k, v)
		}
		b.WriteByte('\n')
	}
	cmd := exec.Command(remote, "--output="+filepath.Join(dir, "test.journal"), "--split-mode=none", "-")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", remote, err, out)
	}
}
