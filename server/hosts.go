package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/shadowview/shadow/api"
)

// The Host allow-list stops DNS rebinding: a web page on rebind.attacker.example whose
// name the attacker points at 127.0.0.1 can make the browser send requests to this
// server, and the demo's password is public. The browser still sends Host:
// rebind.attacker.example, so a server that answers only the names it is reached by
// (loopback by default) gives such a page nothing.

// hostAllowList is the set of host names (lower case, no port, no trailing dot) the
// server answers to, on any port.
type hostAllowList map[string]bool

// newHostAllowList is the loopback names plus extra (names or addresses, with or
// without a port).
func newHostAllowList(extra []string) (hostAllowList, error) {
	h := hostAllowList{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, e := range extra {
		for _, name := range strings.Split(e, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			n, ok := hostName(name)
			if !ok {
				return nil, fmt.Errorf("allowed host %q: want a host name or an address, optionally with a port", name)
			}
			h[n] = true
		}
	}
	return h, nil
}

// hostName is the host part of a Host header or an allowed-host entry, normalised.
func hostName(hostport string) (string, bool) {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || strings.ContainsAny(host, "/ @\\[]") {
		return "", false
	}
	return host, true
}

// allows reports whether a request's Host may be answered. Loopback addresses are
// answered in any spelling (127.0.0.2, ::ffff:127.0.0.1), since no rebinding can make a
// page's own address one of them.
func (h hostAllowList) allows(hostport string) bool {
	host, ok := hostName(hostport)
	if !ok {
		return false
	}
	if h[host] {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || h[ip.String()])
}

// checkHost answers a request whose Host is not allowed with 421 host_not_allowed,
// before anything else runs, saying which flag would allow it.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts.allows(r.Host) {
			host, ok := hostName(r.Host)
			if !ok {
				host = truncate(r.Host, 100)
			}
			writeError(w, r, errorf(api.CodeHostNotAllowed,
				"this server does not answer to the host %q (it answers to localhost, 127.0.0.1 and ::1, and to names given with --allow-host); "+
					"if %q is how clients reach it, start it with: shadow serve --allow-host %s", truncate(r.Host, 100), truncate(host, 100), truncate(host, 100)))
			return
		}
		next.ServeHTTP(w, r)
	})
}
