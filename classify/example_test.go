package classify_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

func ExampleClassify() {
	// Results as the probe and sockstat return them: the port refuses and
	// nothing listens on it.
	probe := &triage.Result{Check: "probe.tcp"}
	probe.Add(triage.Finding{Code: "tcp.refused", Status: triage.Fail,
		Summary:  "127.0.0.1:8080 refused the connection",
		Evidence: triage.Evidence{slog.String("host", "127.0.0.1"), slog.Int("port", 8080)}})
	probe.Finish(nil)
	socks := &triage.Result{Check: "sockstat"}
	socks.Add(triage.Finding{Code: "sockstat.no_listener", Status: triage.Fail,
		Summary:  "nothing listens on port 8080",
		Evidence: triage.Evidence{slog.Int("port", 8080)},
		Command:  "ss -lntp 'sport = :8080'"})
	socks.Finish(nil)

	rep := classify.Classify([]triage.Outcome{probe, socks}, classify.Options{})
	_ = rep.WriteText(os.Stdout)
	top, _ := rep.Top()
	fmt.Println(top.ID == classify.RefusedNotListening)
	// Output:
	// symptom: refused (from the probe)
	// 1. refused.not_listening  [process, score 0.85]
	//    nothing listens on the target port: nothing listens on port 8080 (and 1 more)
	//    + sockstat sockstat.no_listener: nothing listens on port 8080
	//    + probe.tcp tcp.refused: 127.0.0.1:8080 refused the connection
	//    $ ss -lntp 'sport = :8080'
	//    $ lsof -iTCP:8080 -sTCP:LISTEN -nP
	// true
}
