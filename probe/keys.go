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
	// KeyViaProxy is the proxy a hop went through (a URL without its
	// password), in every HTTP finding of a proxied hop; absent when the
	// hop went direct.
	KeyViaProxy = "via_proxy"
	// KeyProxyFailure says how the proxy failed, in CodeHTTPProxyFailed:
	// "refused", "timeout", "reset", "unreachable", "dns", "status" or
	// "error".
	KeyProxyFailure = "proxy_failure"
	// KeyPhase is a phase of the request: where a failure happened, or in
	// CodeHTTPSlow the phase that took the most time ("dns", "connect",
	// "tls", "wait", "transfer").
	KeyPhase = "phase"
	// KeyAuthChallenge is the WWW-Authenticate (for 407,
	// Proxy-Authenticate) header of an answer refusing access, such as
	// `Bearer realm="api", error="invalid_token"`; empty when none came.
	KeyAuthChallenge = "www_authenticate"
	// KeyAuthSent says whether the refused request carried credentials
	// (an Authorization header, or a user in the URL).
	KeyAuthSent = "authorization_sent"
)
