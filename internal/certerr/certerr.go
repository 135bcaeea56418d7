// Package certerr tells a TLS certificate verification failure from any other network
// error: a server whose certificate is not trusted (unknown authority, wrong host name,
// expired or otherwise invalid). Retrying cannot fix one, so the client does not retry it
// and the journal's sync stops on it at once instead of backing off.
//
// It owns that one test and nothing else; it must never import anything of shadow's.
package certerr

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// Is reports whether err is, or wraps, a certificate verification failure.
func Is(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}
