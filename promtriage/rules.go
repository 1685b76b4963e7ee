package promtriage

import _ "embed"

// Rules is rules/triage.rules.yml: the recording and alerting rules this
// package ships for its metrics (see the package documentation), as
// Prometheus loads them from a rule file.
//
//go:embed rules/triage.rules.yml
var Rules []byte
