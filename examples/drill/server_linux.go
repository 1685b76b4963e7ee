package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The little server is this program run again with envServe set: a
// separate process, as a real service is, so that the process probe and
// the socket owners have something to find.
const (
	envServe    = "TRIAGE_DRILL_SERVE"     // "1" turns the program into the server
	envLog      = "TRIAGE_DRILL_LOG"       // file every request is logged to
	envLogBytes = "TRIAGE_DRILL_LOG_BYTES" // how much each request logs
)

// lab is one step's world: a temporary directory and what must be undone,
// in reverse order, when the step ends however it ends.
type lab struct {
	dir string
	// appLog is where the servers' standard error goes, as journald
	// would keep it: on the ordinary disk, not on the one the drill fills.
	appLog string
	undo   []func()
}

const (
	labPattern = "triage-drill-*"
	// labOwner holds the PID of the drill that made the lab.
	labOwner = "pid"
)

func newLab(parent string) (*lab, error) {
	dir, err := os.MkdirTemp(parent, labPattern)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, labOwner), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &lab{dir: dir, appLog: filepath.Join(dir, "app.log")}, nil
}

// sweep removes the labs of drills that died without cleaning up: a crash
// runs no deferred call, and a mount outlives its process. It returns the
// labs removed.
func sweep(parent string) []string {
	if parent == "" {
		parent = os.TempDir()
	}
	dirs, _ := filepath.Glob(filepath.Join(parent, labPattern))
	var swept []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, labOwner))
		if err != nil {
			// Not a lab, or one being made.
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(pid) {
			continue
		}
		if unmountUnder(d) != nil {
			// Removing would reach into what is still mounted.
			continue
		}
		if os.RemoveAll(d) == nil {
			swept = append(swept, d)
		}
	}
	return swept
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return pid > 0 && (err == nil || errors.Is(err, syscall.EPERM))
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) error {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		if err := syscall.Unmount(points[i], syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("unmounting %s: %w", points[i], err)
		}
	}
	return nil
}

func (l *lab) atEnd(f func()) { l.undo = append(l.undo, f) }

// close undoes everything and removes the directory. It returns what
// could not be removed.
func (l *lab) close() error {
	for i := len(l.undo) - 1; i >= 0; i-- {
		l.undo[i]()
	}
	l.undo = nil
	return os.RemoveAll(l.dir)
}

// server is a running little server.
type server struct {
	addr netip.AddrPort
	pid  int
	cmd  *exec.Cmd
	done chan struct{} // closed once the child is waited for
	once sync.Once
}

// serverOptions says what the little server logs.
type serverOptions struct {
	// requestLog, if set, is the file each request is logged to with
	// logBytes of debug dump, as a service with verbose logging left on.
	requestLog string
	logBytes   int
}

// startServer opens a listener on a fresh loopback port and starts the
// little server on it. The drill keeps no copy of the listener, so the
// child alone owns the port. The server is stopped when the step ends.
func (l *lab) startServer(o serverOptions) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run it as the server: %w", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	stderr, err := os.OpenFile(l.appLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()

	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envServe+"=1", envLog+"="+o.requestLog, envLogBytes+"="+strconv.Itoa(o.logBytes))
	cmd.ExtraFiles = []*os.File{lf}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// The server dies with the drill, however the drill ends.
		Pdeathsig: syscall.SIGKILL,
		// Ctrl-C reaches the drill only, which stops the server itself.
		Setpgid: true,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	s := &server{addr: netip.MustParseAddrPort(ln.Addr().String()), pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	l.atEnd(s.stop)
	return s, nil
}

// stop asks the server to shut down and kills it if it does not within a
// few seconds. It may be called more than once.
func (s *server) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func (s *server) url(path string) string { return "http://" + s.addr.String() + path }

// serve is the little server's main: it serves on the listener it was
// handed until SIGTERM, logging each request where it was told to and
// its failures to standard error. A request whose log line cannot be
// written fails with 500, as a service whose logger returns errors does.
func serve() int {
	logf := func(level, format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s %s [drill-server] %s\n", time.Now().Format("2006-01-02 15:04:05.000"), level, fmt.Sprintf(format, args...))
	}
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		logf("ERROR", "no listener handed over: %v", err)
		return 1
	}
	var reqLog *os.File
	if p := os.Getenv(envLog); p != "" {
		if reqLog, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			logf("ERROR", "opening the request log: %v", err)
			return 1
		}
		defer reqLog.Close()
	}
	dump := strings.Repeat("0123456789abcdef", max(0, atoi(os.Getenv(envLogBytes)))/16)
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqLog != nil {
			mu.Lock()
			_, err := fmt.Fprintf(reqLog, "%s DEBUG %s %s from %s dump=%s\n", time.Now().Format(time.RFC3339Nano), r.Method, r.URL.Path, r.RemoteAddr, dump)
			mu.Unlock()
			if err != nil {
				logf("ERROR", "%s %s failed: %v", r.Method, r.URL.Path, err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logf("INFO", "listening on %s (pid %d)", ln.Addr(), os.Getpid())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logf("ERROR", "serving: %v", err)
		return 1
	}
	logf("INFO", "stopped")
	return 0
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
