//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testcontainer"
	"github.com/triagekit/triage/internal/testjournal"
)

type containerDoc struct {
	Input struct {
		Container struct {
			PID   int    `json:"pid"`
			NetNS uint64 `json:"netns"`
		} `json:"container"`
	} `json:"input"`
	Verdict    string `json:"verdict"`
	Symptom    string `json:"symptom"`
	Hypotheses []struct {
		ID   string   `json:"id"`
		Next []string `json:"next"`
	} `json:"hypotheses"`
}

func triageJSON(t *testing.T, args ...string) (containerDoc, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"-json", "-timeout", "8s"}, args...), &out, &errb)
	var doc containerDoc
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), "exit %d: %s", code, errb.String())
	return doc, code, out.String()
}

func top(d containerDoc) string {
	if len(d.Hypotheses) == 0 {
		return ""
	}
	return d.Hypotheses[0].ID
}

// TestContainer runs -container PID in this process, for what the
// report says beyond the first hypothesis (the fault matrix runs the
// command against more container faults, in its quiet and noisy runs):
// the schema, the namespaces named in the input, the commands given
// with nsenter, the comparison with the host.
func TestContainer(t *testing.T) {
	t.Run("healthy service on its own loopback", func(t *testing.T) {
		ctr := testcontainer.New(t, "true")
		testcontainer.Serve(t, ctr, "127.0.0.1:8080")
		pid := strconv.Itoa(ctr.PID())
		doc, code, out := triageJSON(t, "-container", pid, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitHealthy, code, out)
		assert.Equal(t, "none", doc.Symptom, out)
		assert.Empty(t, doc.Hypotheses, out)
		assert.Equal(t, ctr.PID(), doc.Input.Container.PID, out)
		assert.Equal(t, ctr.NetNS(), doc.Input.Container.NetNS, out)
		sch, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "schema", "report.schema.json"))
		require.NoError(t, err)
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(v), out)

		// From the host, the same URL is the host's loopback, where
		// nothing listens on that port (the report must say something
		// else entirely).
		if c, err := net.Dial("tcp", "127.0.0.1:8080"); err == nil {
			c.Close()
			t.Log("the host listens on 127.0.0.1:8080 too; skipping the host's view")
			return
		}
		doc, _, out = triageJSON(t, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, "refused", doc.Symptom, out)
	})
	t.Run("service on another port", func(t *testing.T) {
		ctr := testcontainer.New(t, "true")
		testcontainer.Serve(t, ctr, "127.0.0.1:8081")
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "refused", doc.Symptom, out)
		assert.Equal(t, "refused.not_listening", top(doc), out)
		// What to run next looks at the container's sockets, not the
		// host's.
		assert.Contains(t, doc.Hypotheses[0].Next, "nsenter -t "+strconv.Itoa(ctr.PID())+" -n ss -lntp 'sport = :8080'", out)
	})
	t.Run("an address only the host reaches", func(t *testing.T) {
		ip := testcontainer.HostIPv4(t)
		ln, err := net.Listen("tcp", ip+":0")
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		ctr := testcontainer.New(t, "true") // loopback only: no route out
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-url", "http://"+ln.Addr().String()+"/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "refused", doc.Symptom, out)
		assert.Equal(t, "refused.no_route", top(doc), out)
		assert.Contains(t, out, "container.reach_differs", "the host reaches it: %s", out)
	})

}

// TestContainerFiles: -path and -log name the container's filesystems and
// files, which this host does not see.
func TestContainerFiles(t *testing.T) {
	t.Run("its log names a refused dependency", func(t *testing.T) {
		line := time.Now().UTC().Format(time.RFC3339) + ` ERROR order 17: dial tcp 10.20.0.5:5432: connect: connection refused`
		ctr := testcontainer.New(t, "mount -t tmpfs logs /mnt && mkdir /mnt/triage-log && echo '"+line+"' > /mnt/triage-log/app.log")
		doc, _, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-log", "/mnt/triage-log/app.log")
		assert.Contains(t, out, "10.20.0.5:5432", "the container's log was read")
		assert.Equal(t, "5xx.dependency_down", top(doc), out)
		// On this host the file does not exist.
		_, err := os.Stat("/mnt/triage-log/app.log")
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("its volume is full, and what fills it", func(t *testing.T) {
		ctr := testcontainer.New(t, "mount -t tmpfs scratch /mnt && mkdir /mnt/triage-data && mount -t tmpfs -o size=1m volume /mnt/triage-data && "+
			"mkdir /mnt/triage-data/cache && (head -c 2m /dev/zero > /mnt/triage-data/cache/fill || true)")
		doc, _, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-path", "/mnt/triage-data")
		assert.Equal(t, "disk.full", top(doc), out)
		var res struct {
			Results []struct {
				Check     string `json:"check"`
				Consumers []struct {
					Path  string `json:"path"`
					Bytes uint64 `json:"bytes"`
				} `json:"consumers"`
			} `json:"results"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		var walked bool
		for _, r := range res.Results {
			if r.Check == "diskcheck.usage" {
				walked = true
				require.NotEmpty(t, r.Consumers, out)
				assert.Equal(t, "/mnt/triage-data/cache", r.Consumers[0].Path, "walked inside the container")
				assert.Greater(t, r.Consumers[0].Bytes, uint64(512<<10), "the file that fills it")
			}
		}
		assert.True(t, walked, out)
	})
	t.Run("its journal names a refused dependency", func(t *testing.T) {
		ctr := testcontainer.New(t, "mount -t tmpfs logs /var/log && mkdir /var/log/journal")
		root, err := ctr.Root()
		require.NoError(t, err)
		testjournal.Write(t, filepath.Join(root, "var/log/journal"), []testjournal.Entry{
			{At: time.Now().Add(-5 * time.Second), Unit: "api.service", Priority: 3,
				Message: "order 18: dial tcp 10.20.0.6:5432: connect: connection refused"},
		})
		pid := strconv.Itoa(ctr.PID())
		doc, _, out := triageJSON(t, "-container", pid, "-unit", "api.service")
		assert.Contains(t, out, "10.20.0.6:5432", "the container's journal was read")
		assert.Equal(t, "5xx.dependency_down", top(doc), out)
		assert.Contains(t, out, "journalctl -D /proc/"+pid+"/root/var/log/journal -u api.service", "the command reads its journal from this host")
		// A journal directory that is not in the container.
		_, _, out = triageJSON(t, "-container", pid, "-journal-dir", "/var/log/nothing", "-unit", "api.service")
		assert.NotContains(t, out, "10.20.0.6:5432", "nothing read from elsewhere")
		assert.Contains(t, out, "open /var/log/nothing", "the log step says why it could not tell")
	})

}

// TestContainerProcesses: in a container with a PID namespace of its own,
// -pid and -process name its processes as it numbers them.
func TestContainerProcesses(t *testing.T) {
	ctr := testcontainer.NewPID(t, testcontainer.SecondSleep)
	// A sleep on the host too, which -process must not count.
	host := exec.Command("sleep", "600")
	require.NoError(t, host.Start())
	t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "5s", "-container", strconv.Itoa(ctr.PID()), "-process", "sleep", "-pid", "1"}, &out, &errb)
	require.NotEqual(t, exitUsage, code, errb.String())
	var doc struct {
		Results []struct {
			Name      string `json:"name"`
			Processes []struct {
				PID   int `json:"pid"`
				NSPID int `json:"ns_pid"`
			} `json:"processes"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	seen := map[string]bool{}
	for _, r := range doc.Results {
		switch r.Name {
		case "process sleep":
			seen[r.Name] = true
			require.Len(t, r.Processes, 2, "the container's two sleeps, not the host's: %s", out.String())
			var nsPIDs []int
			for _, p := range r.Processes {
				assert.NotEqual(t, host.Process.Pid, p.PID)
				nsPIDs = append(nsPIDs, p.NSPID)
			}
			assert.Contains(t, nsPIDs, 1, "its PID 1 is a sleep, numbered as the container numbers it")
		case "process " + strconv.Itoa(ctr.PID()):
			seen[r.Name] = true
			require.Len(t, r.Processes, 1)
			assert.Equal(t, ctr.PID(), r.Processes[0].PID, "-pid 1 is the container's PID 1")
		}
	}
	assert.Len(t, seen, 2, "%s", out.String())

	// A PID the container does not have is a usage error.
	errb.Reset()
	code = run(context.Background(), []string{"-container", strconv.Itoa(ctr.PID()), "-pid", "4000"}, &out, &errb)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errb.String(), "no such process")
}

// TestContainerUsage: a process that is not there is a usage error.
func TestContainerUsage(t *testing.T) {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	for _, args := range [][]string{
		{"-container", strconv.Itoa(cmd.Process.Pid)},
		{"-container", "-3"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errb.String())
		assert.Contains(t, errb.String(), "-container", args)
	}
}

// TestNetNS runs -netns NAME against a namespace made with ip netns, as
// CNI plugins make a pod's: the request and the DNS queries leave from
// it, its resolver is the one /etc/netns/NAME names, and the commands to
// run next enter it by name.
func TestNetNS(t *testing.T) {
	t.Run("healthy service on its loopback", func(t *testing.T) {
		name, ns := testcontainer.NewNetNS(t)
		testcontainer.Serve(t, ns, "127.0.0.1:8080")
		doc, code, out := triageJSON(t, "-netns", name, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitHealthy, code, out)
		assert.Equal(t, ns.NetNS(), doc.Input.Container.NetNS, out)
		assert.Zero(t, doc.Input.Container.PID, out)
		assert.Contains(t, out, `"netns_name": "`+name+`"`)
		sch, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "schema", "report.schema.json"))
		require.NoError(t, err)
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(v), out)
	})
	t.Run("service on another port", func(t *testing.T) {
		name, ns := testcontainer.NewNetNS(t)
		testcontainer.Serve(t, ns, "127.0.0.1:8081")
		doc, code, out := triageJSON(t, "-netns", name, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "refused.not_listening", top(doc), out)
		assert.Contains(t, doc.Hypotheses[0].Next, "ip netns exec "+name+" ss -lntp 'sport = :8080'", out)
		// By its file, the commands enter it by its file.
		doc, _, out = triageJSON(t, "-netns", "/var/run/netns/"+name, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, "refused.not_listening", top(doc), out)
		assert.Contains(t, doc.Hypotheses[0].Next, "nsenter --net=/var/run/netns/"+name+" ss -lntp 'sport = :8080'", out)
	})
	t.Run("its resolver from /etc/netns never answers", func(t *testing.T) {
		name, ns := testcontainer.NewNetNS(t)
		// Its stub resolver takes queries and never answers; the
		// host's resolv.conf is not the one ip netns exec would give.
		testcontainer.ListenPacket(t, ns, "udp", "127.0.0.1:53")
		testcontainer.Serve(t, ns, "127.0.0.1:8080")
		dir := filepath.Join("/etc/netns", name)
		if _, err := os.Stat("/etc/netns"); os.IsNotExist(err) {
			require.NoError(t, os.Mkdir("/etc/netns", 0o755))
			t.Cleanup(func() { os.Remove("/etc/netns") })
		}
		require.NoError(t, os.Mkdir(dir, 0o755))
		t.Cleanup(func() { os.RemoveAll(dir) })
		require.NoError(t, os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644))
		doc, _, out := triageJSON(t, "-netns", name, "-url", "http://api.internal:8080/")
		assert.Equal(t, "timeout", doc.Symptom, out)
		assert.Equal(t, "timeout.dns", top(doc), out)
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"-netns", "triage-no-such-namespace"},
			{"-netns", ".."},
			{"-netns", "x", "-container", "1"},
		} {
			var out, errb bytes.Buffer
			code := run(context.Background(), args, &out, &errb)
			assert.Equal(t, exitUsage, code, "%v: %s", args, errb.String())
			assert.Contains(t, errb.String(), "-netns", args)
		}
	})
}
