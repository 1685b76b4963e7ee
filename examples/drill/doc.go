// Command drill runs the exercises that end the incident routine: it
// starts a small server on this machine, breaks it, and lets the checks
// and the classifier find out what was broken.
//
//	go run ./examples/drill            # every step
//	go run ./examples/drill -step 3    # the full disk only
//	go run ./examples/drill -json
//
// The steps:
//
//  1. refused: the server is restarted on another port while clients keep
//     dialling the old one. Expected: refused.not_listening.
//  2. dns: a resolver hands out a stale A record, so the request by name
//     fails while the same request pinned to the right address (curl
//     --resolve) works. Expected: dns.mismatch.
//  3. disk: the server logs to a 1 MiB tmpfs until writes fail; it answers
//     500 and logs "no space left on device". Expected: 5xx.disk_full.
//     Mounting needs root: without it the step is skipped.
//
// Everything lives in a temporary directory and on loopback; every
// listener, child process, mount and file is gone when the command ends,
// on failure and on Ctrl-C too.
//
// Exit status: 0 when every step that ran was diagnosed as what it broke,
// 1 when one was not (or could not be set up, or was interrupted), 2 for a
// usage error.
package main
