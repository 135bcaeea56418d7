package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
)

// Remote says the program runs for a connection from elsewhere (shadow ssh) rather
// than in the admin's own terminal: its journal records when the connection came and
// when it went, with the key that signed in and the address it came from.
type Remote struct {
	// Key is the fingerprint of the public key the connection authenticated with
	// ("SHA256:…").
	Key string
	// Addr is the client's address ("203.0.113.5:51122").
	Addr string
	// Gone, when set, says why the connection ended; it is asked once the program has
	// ended ("the client closed the connection", "the server stopped").
	Gone func() string
}

// Journal actions of a remote connection (with the admin's identity, the key's
// fingerprint and the client's address in Details).
const (
	ActionRemoteConnect    = "ssh.connect"
	ActionRemoteDisconnect = "ssh.disconnect"
)

func (r *Remote) String() string { return "key " + r.Key + " from " + r.Addr }

// disconnectRecord is the journal record of the connection's end.
func (m *Model) disconnectRecord() api.RecordBody {
	r := m.opts.Remote
	why := "the program ended"
	if r.Gone != nil {
		why = r.Gone()
	}
	stayed := time.Since(m.started).Round(time.Second)
	return m.record(ActionRemoteDisconnect, "", nil, fmt.Sprintf("disconnected (%s) after %s: %s", why, stayed, r))
}

// idleDue checks whether the admin has pressed a key within Options.IdleTimeout.
type idleDue struct{}

// idleAfter checks again once the idle timeout could next run out.
func (m *Model) idleAfter(d time.Duration) tea.Cmd {
	if m.opts.IdleTimeout <= 0 {
		return nil
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return idleDue{} })
}

// onIdleDue ends the program (and the session, journaled) when no key came for the
// idle timeout. The wall clock measures it: it is about the person at the keyboard.
func (m *Model) onIdleDue() tea.Cmd {
	idle := time.Since(m.lastKey)
	if left := m.opts.IdleTimeout - idle; left > 0 {
		return m.idleAfter(left)
	}
	m.idled = true
	return m.quit(fmt.Sprintf("ended: no key for %s", m.opts.IdleTimeout))
}

// Idled reports whether the program ended because no key came for the idle timeout.
func (m *Model) Idled() bool { return m.idled }
