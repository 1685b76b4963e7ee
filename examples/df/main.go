// Command df shows filesystems like df -h and df -i, and the largest
// consumers under a directory like du -sh * | sort -h, without hanging on
// a stuck mount, and says what is wrong.
//
//	go run ./examples/df -h                 # bytes, every real filesystem
//	go run ./examples/df -i /var/log        # inodes of the filesystem holding /var/log
//	go run ./examples/df -du /var -top 5    # the 5 largest entries under /var
//	go run ./examples/df -probe -deleted -growth 5s /var/log
//
// Exit status: 0 when nothing failed, 1 when something did, 2 for a usage
// error.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/internal/human"
)

func main() {
	// A few writes, as df makes, rather than one per table cell.
	out := bufio.NewWriter(os.Stdout)
	code := run(context.Background(), os.Args[1:], out, os.Stderr)
	if err := out.Flush(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("df", flag.ContinueOnError)
	fs.SetOutput(stderr)
	humanSizes := fs.Bool("h", false, "print sizes in powers of 1024 (1.5G)")
	inodes := fs.Bool("i", false, "show inodes instead of bytes")
	du := fs.String("du", "", "list the largest consumers under `PATH` instead")
	top := fs.Int("top", 10, "with -du, how many consumers to list")
	depth := fs.Int("depth", 1, "with -du, how deep below PATH the consumers are")
	cross := fs.Bool("x", false, "with -du, cross into other mounts (default: stay on one)")
	probe := fs.Bool("probe", false, "write, fsync and remove a temporary file on each filesystem")
	deleted := fs.Bool("deleted", false, "count space held by deleted but open files")
	growth := fs.Duration("growth", 0, "sample twice this far apart and show the growth")
	timeout := fs.Duration("timeout", 10*time.Second, "bound the whole run")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: df [flags] [PATH...]\n       df -du PATH [-top N] [-depth N]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "df: -timeout must be positive")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	size := func(b uint64) string {
		if *humanSizes {
			return human.Size(b)
		}
		return strconv.FormatUint((b+1023)/1024, 10)
	}

	var common *triage.Result
	if *du != "" {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "df: -du takes no other paths")
			return 2
		}
		r := diskcheck.Usage(ctx, diskcheck.UsageOptions{Path: *du, Top: *top, Depth: *depth, CrossMounts: *cross})
		common = &r.Result
		if *asJSON {
			return printJSON(stdout, stderr, &r)
		}
		// Smallest first and the total last, like du -sh * | sort -h.
		for i := len(r.Consumers) - 1; i >= 0; i-- {
			c := r.Consumers[i]
			mark := ""
			if c.Partial {
				mark = " (partial)"
			}
			fmt.Fprintf(stdout, "%s\t%s%s\n", size(c.Bytes), c.Path, mark)
		}
		fmt.Fprintf(stdout, "%s\t%s (total: %d files, %d directories)\n", size(r.Bytes), r.Path, r.Files, r.Dirs)
		for _, u := range r.Unreadable {
			fmt.Fprintf(stderr, "df: cannot read %s: %s\n", u.Path, u.Errno)
		}
		if r.Vanished > 0 {
			fmt.Fprintf(stderr, "df: %d entries vanished during the walk\n", r.Vanished)
		}
		for _, m := range r.SkippedMounts {
			fmt.Fprintf(stderr, "df: not entering mount %s (use -x)\n", m)
		}
	} else {
		r := diskcheck.Check(ctx, diskcheck.Options{
			Paths: fs.Args(), Probe: *probe, DeletedOpen: *deleted, GrowthInterval: *growth,
		})
		common = &r.Result
		if *asJSON {
			return printJSON(stdout, stderr, &r)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		if *inodes {
			fmt.Fprintln(tw, "Filesystem\tInodes\tIUsed\tIFree\tIUse%\tMounted on")
		} else {
			unit := "1K-blocks"
			if *humanSizes {
				unit = "Size"
			}
			fmt.Fprintf(tw, "Filesystem\t%s\tUsed\tAvail\tUse%%\tMounted on\n", unit)
		}
		for _, f := range r.Filesystems {
			switch {
			case f.Err != nil:
				fmt.Fprintf(tw, "%s\t?\t?\t?\t?\t%s\n", f.Device, f.MountPoint)
			case *inodes && f.NoInodeLimit:
				fmt.Fprintf(tw, "%s\t0\t0\t0\t-\t%s\n", f.Device, f.MountPoint)
			case *inodes:
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f%%\t%s\n", f.Device, f.Inodes, f.InodesUsed, f.InodesFree, f.InodesUsedPct, f.MountPoint)
			default:
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t%s\n", f.Device, size(f.Size), size(f.Used), size(f.Avail), f.UsedPct, f.MountPoint)
			}
		}
		tw.Flush()
		for _, f := range r.Filesystems {
			if g := f.Growth; g != nil {
				ttf := "not growing"
				if g.TimeToFull != nil {
					ttf = "full in " + g.TimeToFull.Round(time.Second).String()
				}
				fmt.Fprintf(stdout, "growth %s: %+d bytes in %s (%.0f B/s), %s\n", f.MountPoint, g.UsedDelta, g.Interval.Round(time.Millisecond), g.BytesPerSec, ttf)
			}
		}
	}
	for _, f := range common.Findings {
		fmt.Fprintf(stdout, "%-4s %s\n     $ %s\n", f.Status, f.Summary, f.Command)
	}
	if common.Err != nil {
		fmt.Fprintf(stderr, "df: could not tell everything: %s\n", strings.ReplaceAll(common.Err.Error(), "\n", "; "))
	}
	if common.Status == triage.Fail {
		return 1
	}
	return 0
}

func printJSON(stdout, stderr io.Writer, o triage.Outcome) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		fmt.Fprintf(stderr, "df: %v\n", err)
		return 2
	}
	if o.Common().Status == triage.Fail {
		return 1
	}
	return 0
}
