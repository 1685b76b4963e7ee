package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/triagekit/triage"
)

// ErrorClass is what kind of failure a connection attempt or an HTTP
// exchange ended with. It is derived from the error with errors.Is and
// errors.As (errno values, *net.DNSError, x509 errors), never from the
// error's text. The classifier reads it to tell refused from timeout from
// 5xx.
//
// The zero value, ClassNone, means the attempt succeeded.
type ErrorClass string

// Error classes. Each one maps to one finding code (see [ErrorClass.Code]).
const (
	// ClassNone: no error.
	ClassNone ErrorClass = ""
	// ClassRefused: the peer answered the SYN with a RST (ECONNREFUSED):
	// nothing listens there, or a firewall rejects.
	ClassRefused ErrorClass = "refused"
	// ClassTimeout: no answer to the SYN within the deadline (or
	// ETIMEDOUT): the packets are dropped on the way, or the listener's
	// accept queue is full.
	ClassTimeout ErrorClass = "timeout"
	// ClassReset: the peer reset an established connection (ECONNRESET).
	ClassReset ErrorClass = "reset"
	// ClassUnreachable: no route to the host or network (EHOSTUNREACH,
	// ENETUNREACH), locally or reported by a router.
	ClassUnreachable ErrorClass = "unreachable"
	// ClassPortsExhausted: no free local ephemeral port for the
	// destination (EADDRNOTAVAIL).
	ClassPortsExhausted ErrorClass = "ports_exhausted"
	// ClassBlocked: local policy refused to connect (EACCES, EPERM): a
	// prohibit route, a cgroup BPF hook, an LSM.
	ClassBlocked ErrorClass = "blocked"
	// ClassDNSNotFound: the name does not exist (NXDOMAIN or no address).
	ClassDNSNotFound ErrorClass = "dns_not_found"
	// ClassDNSTimeout: the resolver did not answer in time.
	ClassDNSTimeout ErrorClass = "dns_timeout"
	// ClassDNSError: the resolver failed otherwise (SERVFAIL, refused,
	// no nameserver reachable).
	ClassDNSError ErrorClass = "dns_error"
	// ClassTLSUnknownAuthority: the certificate chain does not lead to a
	// trusted root.
	ClassTLSUnknownAuthority ErrorClass = "tls_unknown_authority"
	// ClassTLSExpired: a certificate is expired or not yet valid.
	ClassTLSExpired ErrorClass = "tls_expired"
	// ClassTLSNameMismatch: the certificate is not valid for the name
	// asked for.
	ClassTLSNameMismatch ErrorClass = "tls_name_mismatch"
	// ClassTLSTimeout: the TLS handshake did not finish in time.
	ClassTLSTimeout ErrorClass = "tls_timeout"
	// ClassTLSError: the TLS handshake failed otherwise (alert, protocol
	// or cipher mismatch, a plain-text server on a TLS port).
	ClassTLSError ErrorClass = "tls_error"
	// ClassNoFirstByte: the server accepted the request but sent no byte
	// of an answer in time.
	ClassNoFirstByte ErrorClass = "no_first_byte"
	// ClassBodyStalled: the answer started but its body stopped coming.
	ClassBodyStalled ErrorClass = "body_stalled"
	// ClassEmptyReply: the server closed the connection without an
	// answer (curl's "empty reply from server").
	ClassEmptyReply ErrorClass = "empty_reply"
	// ClassCanceled: the caller canceled the context; nothing was learned
	// about the target.
	ClassCanceled ErrorClass = "canceled"
	// ClassOther: an error none of the classes above describes.
	ClassOther ErrorClass = "other"
)

// Code returns the finding code the class is reported under: tcp.* for
// connection and DNS failures, http.* for TLS and HTTP ones. ClassNone and
// ClassCanceled have no code; ClassOther is [CodeTCPError].
func (c ErrorClass) Code() triage.Code {
	switch c {
	case ClassRefused:
		return CodeTCPRefused
	case ClassTimeout:
		return CodeTCPTimeout
	case ClassReset:
		return CodeTCPReset
	case ClassUnreachable:
		return CodeTCPUnreachable
	case ClassPortsExhausted:
		return CodeTCPPortsExhausted
	case ClassBlocked:
		return CodeTCPBlocked
	case ClassDNSNotFound:
		return CodeTCPDNSNotFound
	case ClassDNSTimeout:
		return CodeTCPDNSTimeout
	case ClassDNSError:
		return CodeTCPDNSError
	case ClassTLSUnknownAuthority:
		return CodeHTTPTLSUnknownAuthority
	case ClassTLSExpired:
		return CodeHTTPTLSExpired
	case ClassTLSNameMismatch:
		return CodeHTTPTLSNameMismatch
	case ClassTLSTimeout:
		return CodeHTTPTLSTimeout
	case ClassTLSError:
		return CodeHTTPTLSError
	case ClassNoFirstByte:
		return CodeHTTPNoFirstByte
	case ClassBodyStalled:
		return CodeHTTPBodyStalled
	case ClassEmptyReply:
		return CodeHTTPEmptyReply
	case ClassOther:
		return CodeTCPError
	}
	return ""
}

// describe is the few words a summary uses for the class.
func (c ErrorClass) describe() string {
	switch c {
	case ClassRefused:
		return "connection refused"
	case ClassTimeout:
		return "no answer to SYN (timeout)"
	case ClassReset:
		return "connection reset by peer"
	case ClassUnreachable:
		return "host or network unreachable"
	case ClassPortsExhausted:
		return "no free local port (ephemeral ports exhausted)"
	case ClassBlocked:
		return "blocked by a local firewall"
	case ClassDNSNotFound:
		return "name not found"
	case ClassDNSTimeout:
		return "resolver timed out"
	case ClassDNSError:
		return "resolver failed"
	case ClassTLSUnknownAuthority:
		return "certificate signed by an unknown authority"
	case ClassTLSExpired:
		return "certificate expired or not yet valid"
	case ClassTLSNameMismatch:
		return "certificate not valid for this name"
	case ClassTLSTimeout:
		return "TLS handshake timed out"
	case ClassTLSError:
		return "TLS handshake failed"
	case ClassNoFirstByte:
		return "no first byte of the answer (server accepted and is silent)"
	case ClassBodyStalled:
		return "body stalled"
	case ClassEmptyReply:
		return "closed without an answer"
	case ClassCanceled:
		return "canceled"
	case ClassOther:
		return "failed"
	}
	return "ok"
}

// classifyDialErr classifies an error from dialing or resolving. A
// deadline that ends a dial counts as "no answer to SYN".
func classifyDialErr(err error) ErrorClass {
	if err == nil {
		return ClassNone
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return ClassDNSNotFound
		case dnsErr.IsTimeout, errors.Is(err, context.DeadlineExceeded):
			return ClassDNSTimeout
		}
		return ClassDNSError
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return ClassReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ClassUnreachable
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return ClassPortsExhausted
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return ClassBlocked
	case errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded):
		return ClassTimeout
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClassTimeout
	}
	return ClassOther
}

// isTimeout reports whether err says a deadline passed.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classifyTLSErr classifies a certificate verification or handshake error.
// It returns ClassNone when err is not about TLS.
func classifyTLSErr(err error) ErrorClass {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var recHeader tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown):
		return ClassTLSUnknownAuthority
	case errors.As(err, &hostname):
		return ClassTLSNameMismatch
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return ClassTLSExpired
		}
		return ClassTLSError
	case errors.As(err, &verify), errors.As(err, &alert), errors.As(err, &recHeader):
		return ClassTLSError
	}
	return ClassNone
}

// classifyHTTPErr classifies an error of one HTTP exchange given the
// phase it happened in.
func classifyHTTPErr(err error, ph phase) ErrorClass {
	if err == nil {
		return ClassNone
	}
	if c := classifyTLSErr(err); c != ClassNone {
		return c
	}
	if errors.Is(err, context.Canceled) && !isTimeout(err) {
		return ClassCanceled
	}
	if isTimeout(err) {
		switch ph {
		case phaseDNS:
			return ClassDNSTimeout
		case phaseConnect:
			return ClassTimeout
		case phaseTLS:
			return ClassTLSTimeout
		case phaseTransfer:
			return ClassBodyStalled
		default:
			return ClassNoFirstByte
		}
	}
	if ph == phaseTLS {
		if c := classifyDialErr(err); c == ClassReset || c == ClassOther {
			return ClassTLSError
		}
	}
	if c := classifyDialErr(err); c != ClassOther {
		return c
	}
	// A body cut short by the peer closing is not a stall; it stays
	// ClassOther.
	if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && ph != phaseTransfer {
		return ClassEmptyReply
	}
	return ClassOther
}
