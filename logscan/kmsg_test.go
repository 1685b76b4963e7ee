package logscan

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// kmsgFixture reads testdata/kmsg.txt: one record a line, with the
// kernel's continuation lines (" KEY=value") kept with their record.
func kmsgFixture(t *testing.T) []kmsgRecord {
	t.Helper()
	b, err := os.ReadFile("testdata/kmsg.txt")
	require.NoError(t, err)
	var recs []kmsgRecord
	var cur []byte
	flush := func() {
		if cur != nil {
			r, ok := parseKmsg(cur)
			require.True(t, ok, "%q", cur)
			recs = append(recs, r)
		}
	}
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		if len(l) > 0 && l[0] == ' ' {
			cur = append(append(cur, '\n'), l...)
			continue
		}
		flush()
		cur = append([]byte(nil), l...)
	}
	flush()
	return recs
}

func TestParseKmsg(t *testing.T) {
	recs := kmsgFixture(t)
	require.Len(t, recs, 11)
	assert.Equal(t, 3, recs[3].prio)
	assert.Equal(t, "error", recs[3].level)
	assert.Equal(t, uint64(501), recs[3].seq)
	assert.Equal(t, uint64(5000000100), recs[3].usec)
	assert.Equal(t, "EXT4-fs error (device vdb1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0", string(recs[9].text))
	assert.Equal(t, "printk with \x1b escape and tab\there", string(recs[10].text))

	for _, bad := range []string{"", "no semicolon", "a,b,c,d;x", "6,1;x", "-1,1,1,-;x"} {
		_, ok := parseKmsg([]byte(bad))
		assert.False(t, ok, bad)
	}
	pri, _ := parseKmsg([]byte("30,1,1,-;facility daemon, priority err"))
	assert.Equal(t, 6, pri.prio, "the facility is masked off")
}

func TestParseDmesgLine(t *testing.T) {
	us, text, ok := parseDmesgLine([]byte("[ 5000.000100] Out of memory: Killed process 1 (x)"))
	require.True(t, ok)
	assert.Equal(t, uint64(5000000100), us)
	assert.Equal(t, "Out of memory: Killed process 1 (x)", string(text))
	_, _, ok = parseDmesgLine([]byte("no stamp"))
	assert.False(t, ok)
}

func TestKernelSignals(t *testing.T) {
	recs := kmsgFixture(t)
	boot := testNow.Add(-5600 * time.Second)
	run := func(c config) Result {
		a := newAgg(newMatcher(nil, ""), nil, "", testNow, time.UTC)
		a.setSource("kernel", true)
		n := feedKernel(a, recs, c, boot)
		a.flush()
		r := Result{Sources: []Source{{Name: "kernel", Lines: n}}}
		r.fill(a, Options{}, c)
		r.Finish(nil)
		return r
	}
	r := run(config{})
	assert.Equal(t, 11, r.Lines)
	assert.Equal(t, 0, r.ErrorLines, "kernel lines count through their signals only")
	oom := signal(t, r, CodeKernelOOMKill, "java")
	assert.Equal(t, 1, oom.Count)
	assert.Equal(t, 4321, oom.PID)
	assert.Equal(t, boot.Add(5000000100*time.Microsecond), oom.Last)
	assert.Equal(t, 1, signal(t, r, CodeKernelSYNFlood, "8080").Count)
	assert.Equal(t, 2, signal(t, r, CodeKernelConntrackFull, "nf_conntrack").Count)
	assert.Equal(t, 1, signal(t, r, CodeKernelIOError, "vdb").Count)
	assert.Equal(t, 2, signal(t, r, CodeKernelIOError, "vdb1").Count)
	assert.NotContains(t, codes(r), CodeOutOfMemory, "the OOM killer is a kernel signal")
	f := findingOf(t, r, CodeKernelOOMKill)
	pid, _ := f.Evidence.Int(triage.KeyPID)
	assert.EqualValues(t, 4321, pid)
	assert.Equal(t, "java", f.Evidence.String(triage.KeyProcess))
	assert.Equal(t, "dmesg -T | grep -F 'Killed process'", f.Command)

	// The last 10 minutes hold the records after 5000 s of uptime.
	w := run(config{w: window{since: testNow.Add(-10 * time.Minute)}})
	assert.Equal(t, 9, w.Lines)
	assert.Equal(t, 3, run(config{w: window{lines: 3}}).Lines)
}

// TestKernelOOMKillCgroups: the kernel's oom-kill line names the killed
// task's cgroup; kills in two cgroups are two signals, each with its
// cgroup, so that a kill of the target is told from an unrelated job's.
func TestKernelOOMKillCgroups(t *testing.T) {
	var recs []kmsgRecord
	for _, l := range []string{
		"4,900,5000000000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/batch.slice,task_memcg=/batch.slice/job-7,task=stress,pid=311,uid=0",
		"3,901,5000000010,-;Memory cgroup out of memory: Killed process 311 (stress) total-vm:35084kB, anon-rss:32256kB",
		"4,902,5000000020,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/api.service,task_memcg=/system.slice/api.service,task=java,pid=4321,uid=0",
		"3,903,5000000030,-;Memory cgroup out of memory: Killed process 4321 (java) total-vm:35084kB",
		"3,904,5000000040,-;Out of memory: Killed process 77 (stress) total-vm:1kB",
	} {
		r, ok := parseKmsg([]byte(l))
		require.True(t, ok, l)
		recs = append(recs, r)
	}
	a := newAgg(newMatcher(nil, ""), nil, "", testNow, time.UTC)
	a.setSource("kernel", true)
	feedKernel(a, recs, config{}, testNow.Add(-5600*time.Second))
	a.flush()
	var r Result
	r.fill(a, Options{}, config{})
	var got []string
	for _, s := range r.Signals {
		if s.Code == CodeKernelOOMKill {
			got = append(got, fmt.Sprintf("%s %d %q", s.Target, s.PID, s.Cgroup))
		}
	}
	assert.ElementsMatch(t, []string{`stress 311 "/batch.slice/job-7"`, `java 4321 "/system.slice/api.service"`, `stress 77 ""`}, got)
	for _, f := range r.Findings {
		if f.Code == CodeKernelOOMKill && f.Evidence.String(triage.KeyProcess) == "java" {
			assert.Equal(t, "/system.slice/api.service", f.Evidence.String(triage.KeyCgroup))
			assert.Contains(t, f.Summary, "in cgroup /system.slice/api.service")
		}
	}
}
