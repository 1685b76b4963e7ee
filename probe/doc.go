// Package probe reproduces the request and probes the service's
// dependencies: does a connection or a request to the service, or to one
// of its dependencies, get through, and if not, how far does it get?
//
// # Connections
//
// [TCP] resolves a host (A and AAAA, /etc/hosts included) and connects to
// each address at once, classifying every failure by errno into an
// [ErrorClass]: refused, timeout (no answer to SYN), reset, unreachable,
// ports exhausted, blocked by local policy, DNS not found, timeout or
// error. Its codes are under tcp.
//
// # Requests
//
// [HTTP] reproduces a request like curl -v (curl -I with Method HEAD, curl
// -L with FollowRedirects, curl --resolve with Resolve). Each hop records
// phase timings that add up to the total, the address connected,
// protocol, status, the headers that say who answered, and TLS facts,
// including those of a certificate that failed verification. Timeouts are
// named by phase; a 5xx from a proxy says the failing layer is behind it.
// Every request carries a W3C traceparent, fresh or the caller's, whose
// trace id is recorded to find in the service's logs. Its codes are under
// http, with the tcp ones for DNS and dial failures.
//
// # Dependencies
//
// [DB] pings a *sql.DB between two samples of its pool statistics,
// telling a slow or failing database (ping timeout, ping error) from an
// application that has run out of connections (pool exhausted). Its codes
// are under db.
//
// # Targets and evidence
//
// A result's Check is a fixed kind ([KindTCP], [KindHTTP], [KindDB]); what
// it was aimed at is its Target: the host and port, the URL without its
// password, and the address actually dialled. The evidence keys a
// classifier reads are constants: [KeyHTTPStatus], [KeyPinned], and the
// shared ones of the triage package.
//
// # Platforms
//
// Everything here is portable Go on top of net, net/http and database/sql;
// the errno values that classify failures are those of the platform.
//
// # Privileges
//
// None. The probes connect like any client of the service would; to
// connect from another network namespace or source address, pass a
// [Dialer].
package probe
