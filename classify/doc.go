// Package classify answers the routine's first question — refused,
// timeout or 5xx? — and then the one that matters: which of the usual
// causes do the results point at.
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
// Classify does no I/O and is deterministic: equal scores keep the order
// of the rules.
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
// evidence. Scores below 0.1 are dropped.
package classify
