package probe

// The kinds of check this package makes: the Check of their results.
const (
	KindTCP  = "probe.tcp"
	KindHTTP = "probe.http"
	KindDB   = "probe.db"
)

// Evidence keys a classifier reads, beside the shared ones of the triage
// package: the host asked is under triage.KeyHost, the URL under
// triage.KeyURL, the address tried and its port under triage.KeyAddr and
// triage.KeyPort. The other keys listed with the codes are this package's
// own measurements; durations end in "_ns".
const (
	// KeyHTTPStatus is the HTTP status code of an answer (an int), in
	// every http.* finding about an answer: CodeHTTPOK, CodeHTTPStatus4xx,
	// CodeHTTPStatus5xx, CodeHTTPRateLimited, CodeHTTPBodyStalled and
	// CodeHTTPTooManyRedirects. It is not "status", which every finding
	// already has for its own OK, Warn, Fail or Unknown.
	KeyHTTPStatus = "http_status"
	// KeyPinned, true in an HTTP finding, says the hop went to an address
	// the caller chose (HTTPOptions.Resolve, or one attempt per address
	// with EachAddress) rather than where the name resolves: an answer
	// there while the name fails points at DNS. It is absent otherwise.
	KeyPinned = "pinned"
)
