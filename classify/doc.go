// Package classify answers the routine's first question — refused,
// timeout, 5xx, or just slow (and on the client's side: a certificate that
// fails, a 4xx)? — and then the one that matters: which of the usual
// causes do the results point at. A derived symptom is, in that order of
// precedence: 5xx, refused, timeout, tls, 4xx, slow.
//
// It takes the results of any set of checks (absent checks are absent
// evidence, not negative evidence) and, optionally, the symptom the caller
// already knows. It returns the symptom, given or derived from the TCP and
// HTTP probes, and hypotheses ranked by score. Each hypothesis has a stable
// id such as "refused.not_listening", the layer it points at, a one-line
// explanation built from the measured values, the findings that support
// and contradict it, and the commands a person would run to confirm it.
//
// Rules are data: which finding codes support a hypothesis and how much,
// which contradict it, and which other hypotheses it explains away (a dead
// process explains a refused port better than a firewall does). Callers
// add their own rules and override weights through [Options].
//
// Classify does no I/O and is deterministic, and never ranks by the order
// of the rules: equal scores go by how many supporting findings are about
// the target, then by how many there are, then by id.
//
// # The target and the background
//
// A run is about a target: what [Options.Target] names (a process or
// PID, a cgroup, paths and log files, a name), what the request probes
// dialled, and what checks were aimed at (a port, a name, a path, a
// process's cgroup). The owner of the target's listener and its cgroup
// join it. With no target at all, the host is the target.
//
// Each finding is about the target or host background. Probes, process
// checks and DNS checks are about what they were aimed at; a cgroup's
// findings when it is the target's; a kernel OOM kill when it killed a
// target process or something in a target cgroup; a filesystem's when it
// holds the target's paths or logs; sockets' when their port or peer is
// the target's. Conditions of the whole host measured while the checks ran
// (CPU saturated, memory short, retransmits, a full conntrack table) count
// for the target only where they can starve it: under a timeout, or for a
// process asked about without a request; and then they support less
// (x0.6) than the target's own findings. Background alone raises no cause:
// [Report.Background] lists it as "also wrong on this host".
//
// A [Report] keeps what is known apart from what is guessed: Hypotheses
// are the candidate causes, [Report.Inconclusive] says none reaches
// [Possible], [Report.Close] names the command that tells two close ones
// apart, and [Report.RuledOut] lists the target's checks that passed. A
// symptom given that the request probe contradicts is replaced by the one
// it saw ([Report.Contradicted]).
//
// # Scoring
//
// A rule is raised when at least one of its supporting findings is present.
// Each supporting finding contributes its sign's weight times a factor for
// its status (fail 1, warn 0.7, unknown 0.3; an ok finding counts 1
// where the sign says it counts, and 0 otherwise); contributions combine
// as independent evidence,
// 1 - Π(1 - w). The rule's weight scales the result. Each contradicting
// finding multiplies the score by (1 - w/2); each raised hypothesis that
// explains this one away multiplies it by (1 - 0.7 s), s being the
// explaining hypothesis' own score, so a weak explanation takes little. Rules that need no symptom
// (a full disk, OOM kills) weigh 0.8 of their value when a symptom is
// known, so that the symptom's own explanations rank first on equal
// evidence. Scores below 0.1 are dropped. The bands [Possible], [Likely]
// and [Strong] say how far to trust a score; the project's README shows
// how often the first hypothesis was right in each band on its fault
// matrix.
package classify
