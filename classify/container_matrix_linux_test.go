//go:build linux

package classify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/internal/testcgroup"
	"github.com/triagekit/triage/internal/testcontainer"
)

// buildCommand builds the triage command once for the matrix, for the
// scenarios diagnosed through it (-container): what an operator runs.
func buildCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "triage")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/triagekit/triage/examples/triage")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the triage command: %v\n%s", err, out)
	}
	return bin
}

// runCommand runs the triage command with the scenario's arguments and
// -json, and checks its first hypothesis as the matrix checks a report.
func runCommand(t *testing.T, run string, sc scenario, bin string) matrixRow {
	// The scenario's own flags come last, and win.
	args := append([]string{"-json", "-timeout", "8s"}, sc.cli(t)...)
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running triage %v: %v", args, err)
	}
	var doc struct {
		Symptom      string `json:"symptom"`
		Inconclusive bool   `json:"inconclusive"`
		Hypotheses   []struct {
			ID    string  `json:"id"`
			Score float64 `json:"score"`
		} `json:"hypotheses"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), "triage %v: %s", args, errb.String())
	if dir := os.Getenv("TRIAGE_MATRIX_RECORD"); dir != "" {
		want := string(sc.want)
		if want == "" {
			want = "none"
		}
		slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(sc.name), "-"), "-")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s__%s-%s.json", want, run, slug)), out.Bytes(), 0o644))
	}
	row := matrixRow{run: run, scenario: sc.name, want: string(sc.want), symptom: doc.Symptom, inconclusive: doc.Inconclusive}
	if len(doc.Hypotheses) > 0 {
		row.top, row.score = doc.Hypotheses[0].ID, doc.Hypotheses[0].Score
	}
	if sc.want == "" {
		assert.Equal(t, "none", doc.Symptom, "%s", out.String())
		assert.Empty(t, doc.Hypotheses, "a healthy container raises nothing: %s", out.String())
	} else {
		assert.Equal(t, string(sc.want), row.top, "triage %v: %s", args, out.String())
		assert.False(t, doc.Inconclusive, "a known fault is called: %s", out.String())
	}
	return row
}

// containerScenarios are faults of a container, diagnosed by the triage
// command from the host with -container PID: every check made from
// inside the container's namespaces.
func containerScenarios() []scenario {
	pid := func(t *testing.T, setup string) (string, func(addr string)) {
		ctr := testcontainer.New(t, setup)
		return strconv.Itoa(ctr.PID()), func(addr string) { testcontainer.Serve(t, ctr, addr) }
	}
	return []scenario{
		{
			name: "container: healthy service on its own loopback", want: "",
			cli: func(t *testing.T) []string {
				p, serve := pid(t, "")
				serve("127.0.0.1:8080")
				return []string{"-container", p, "-url", "http://127.0.0.1:8080/"}
			},
		},
		{
			name: "container: service listens on another port", want: classify.RefusedNotListening,
			cli: func(t *testing.T) []string {
				p, serve := pid(t, "")
				serve("127.0.0.1:8081")
				return []string{"-container", p, "-url", "http://127.0.0.1:8080/"}
			},
		},
		{
			name: "container: iptables DROP in its namespace", want: classify.TimeoutPacketDrop,
			cli: func(t *testing.T) []string {
				if _, err := exec.LookPath("iptables"); err != nil {
					t.Skip("needs iptables")
				}
				p, serve := pid(t, "iptables -A INPUT -p tcp --dport 8080 -j DROP")
				serve("127.0.0.1:8080")
				// Nothing ever answers: the run lasts its whole deadline.
				return []string{"-container", p, "-url", "http://127.0.0.1:8080/", "-timeout", "4s"}
			},
		},
		{
			name: "container: its resolver never answers, the host's does", want: classify.TimeoutDNS,
			cli: func(t *testing.T) []string {
				rc := filepath.Join(t.TempDir(), "resolv.conf")
				require.NoError(t, os.WriteFile(rc, []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644))
				ctr := testcontainer.New(t, "mount --bind "+rc+" /etc/resolv.conf")
				// Its stub resolver takes queries and never answers.
				testcontainer.ListenPacket(t, ctr, "udp", "127.0.0.1:53")
				testcontainer.Serve(t, ctr, "127.0.0.1:8080")
				return []string{"-container", strconv.Itoa(ctr.PID()), "-url", "http://api.internal:8080/"}
			},
		},
		{
			name: "container: a volume full only inside it", want: classify.DiskFull,
			cli: func(t *testing.T) []string {
				p, _ := pid(t, "mount -t tmpfs scratch /mnt && mkdir /mnt/triage-data && mount -t tmpfs -o size=1m volume /mnt/triage-data && mkdir /mnt/triage-data/cache && (head -c 2m /dev/zero > /mnt/triage-data/cache/fill || true)")
				return []string{"-container", p, "-path", "/mnt/triage-data"}
			},
		},
		{
			name: "container: its cgroup near its memory limit", want: classify.ResourceMemoryPressure,
			cli: func(t *testing.T) []string {
				m := testcgroup.NewMemory(t, 64<<20)
				p, _ := pid(t, m.EnterScript()+" && mount -t tmpfs -o size=100m shm /dev/shm && head -c 60m /dev/zero > /dev/shm/hold")
				return []string{"-container", p}
			},
		},
		{
			name: "container: no network, its resolver out of reach", want: classify.DNSUnreachable,
			cli: func(t *testing.T) []string {
				// Its resolv.conf names a nameserver it has no route to.
				rc := filepath.Join(t.TempDir(), "resolv.conf")
				require.NoError(t, os.WriteFile(rc, []byte("nameserver 192.0.2.53\n"), 0o644))
				p, _ := pid(t, "mount --bind "+rc+" /etc/resolv.conf")
				return []string{"-container", p, "-url", "http://api.internal:8080/"}
			},
		},
		{
			name: "container: no route to a service the host reaches", want: classify.RefusedNoRoute,
			cli: func(t *testing.T) []string {
				ln, err := net.Listen("tcp", testcontainer.HostIPv4(t)+":0")
				require.NoError(t, err)
				serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				p, _ := pid(t, "")
				return []string{"-container", p, "-url", "http://" + ln.Addr().String() + "/"}
			},
		},
	}
}
