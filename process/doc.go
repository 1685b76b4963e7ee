// Package process answers the first question of the incident routine about
// the service: is the process alive, and healthy? [Check] is ps aux | grep,
// ps -o pid,ppid,cmd,%cpu,%mem -p and top -H in one call.
//
// It finds processes by exact name, by a substring of the command line, by
// PID or by pidfile, and reports for every match its parent, user, state,
// command line, CPU and memory use, threads, open file descriptors against
// the soft RLIMIT_NOFILE, start time, memory in swap with the major page
// faults taken over the window (its pages coming back from disk), and the
// hottest threads over the sample window (Options.Window, [DefaultWindow] by default, cut short to
// fit the context's deadline). Processes that exit during the scan are
// skipped. Codes are under process.
//
// # Units
//
// CPU percentages are of one core, like top (200 means two cores busy).
// Per-process times in /proc are counted in clock ticks; the package
// assumes USER_HZ = 100, which is what Linux exposes to user space on
// every architecture Go supports.
//
// # Platforms
//
// The check reads Linux's /proc. On other platforms it returns an Unknown
// result whose error matches triage.ErrUnsupported. The procfs root is an
// option (ProcRoot), never an environment variable, so tests and callers in
// another mount namespace can point it at another tree. Files, the pidfile
// included, are opened without blocking and read only when they are
// regular files of at most a few MiB; a command line longer than that is
// matched and shown by its start.
//
// # Privileges
//
// Counting another user's open file descriptors needs root, or to be the
// process's owner (/proc/PID/fd is closed to others); so may reading a
// pidfile. Without it the process is still reported, and the result is
// Unknown with an error matching os.ErrPermission and a
// process.permission_denied finding, never healthy.
package process
