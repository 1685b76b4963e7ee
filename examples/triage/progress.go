package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/triagekit/triage"
)

// progressAfter is how long checks run before a progress line appears.
const progressAfter = 300 * time.Millisecond

// progress counts the checks that are done and names those still running.
type progress struct {
	mu      sync.Mutex
	total   int
	done    int
	running map[int]string // by position in the plan
}

func (p *progress) line(elapsed time.Duration) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.running))
	for i := range p.total {
		if n, ok := p.running[i]; ok {
			names = append(names, n)
		}
	}
	s := fmt.Sprintf("checking: %d of %d done (%s)", p.done, p.total, elapsed.Round(100*time.Millisecond))
	if len(names) > 0 {
		s += ", waiting for " + strings.Join(names, ", ")
	}
	return s
}

// showProgress wraps checks so that, on a terminal, a progress line on w
// names the checks still running once they take longer than a moment. The
// returned stop clears the line and ends the ticker.
func showProgress(w io.Writer, checks []triage.Check) (stop func()) {
	if !isTerminal(w) || len(checks) == 0 {
		return func() {}
	}
	p := &progress{total: len(checks), running: map[int]string{}}
	for i := range checks {
		run, name := checks[i].Run, checks[i].Name
		if run == nil {
			continue
		}
		checks[i].Run = func(ctx context.Context) triage.Outcome {
			p.mu.Lock()
			p.running[i] = name
			p.mu.Unlock()
			defer func() {
				p.mu.Lock()
				delete(p.running, i)
				p.done++
				p.mu.Unlock()
			}()
			return run(ctx)
		}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-quit:
				if shown {
					fmt.Fprint(w, "\r\x1b[K")
				}
				return
			case <-tick.C:
				if time.Since(start) < progressAfter {
					continue
				}
				shown = true
				fmt.Fprint(w, "\r\x1b[K"+clipLine(p.line(time.Since(start)), width))
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// clipLine cuts s to n bytes at a rune boundary so the line never wraps,
// which would defeat the carriage return.
func clipLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
