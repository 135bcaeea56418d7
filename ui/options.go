package ui

import (
	"context"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
)

// Credentials sign the program in without asking: the demo's public support account.
// Never a real password: a real one is typed into the login screen and kept nowhere.
type Credentials struct {
	Email    string
	Password string
}

// Options configure the root model (New). Run builds them from a Config; tests build
// them directly around a client of a test server.
type Options struct {
	// Client talks to the server. Required. When UseToken is set its token is already
	// in place (SetToken).
	Client *client.Client
	// Credentials, when set, sign in without the login screen (the demo).
	Credentials *Credentials
	// UseToken signs in with the client's token (SHADOW_TOKEN): GET /me says who it is.
	UseToken bool
	// StateDir is where this run's journal goes (audit.Options.StateDir).
	StateDir string
	// Demo says the server is the embedded demo; the screen says DEMO.
	Demo bool
	// Notices are shown on screen until the program ends: the client's connection
	// warnings (TLS verification off, plain http).
	Notices []string
	// DemoNotice, when set, says why this demo runs on a throwaway server; it is shown
	// once signed in, and the status line keeps a note of it.
	DemoNotice string
	// Profile is the colour profile (colorprofile.ASCII under NO_COLOR).
	Profile colorprofile.Profile
	// Inline draws in the terminal's main screen instead of the alternate one.
	Inline bool
	// ASCII draws frames, rules and charts in ASCII, for a terminal without line drawing
	// (common.NoLineDrawing).
	ASCII bool
	// Now is the clock of the banner's countdown and of expiry (time.Now when nil).
	Now func() time.Time
	// Tick is how often the screen is redrawn during a session so the countdown moves
	// (1 s when zero).
	Tick time.Duration
	// Poll is how often the session's state is asked of the server, so a revocation is
	// noticed without the admin doing anything (10 s when zero).
	Poll time.Duration
	// RequestTimeout bounds one call to the server, retries included
	// (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
	// SearchDebounce is the picker's pause in typing before it searches (its default
	// when zero).
	SearchDebounce time.Duration
	// PageSize is how many users one directory page asks for (100 when zero).
	PageSize int
	// Sync tunes the journal's sync loop.
	Sync audit.SyncOptions
	// Journal, when set, is used instead of opening one under StateDir; the program
	// starts its sync, as for its own. Tests use it to hold a journal they can break.
	Journal *audit.Journal
	// Context bounds every request the program makes: once it is cancelled (the program
	// ended, a signal, the SSH connection closed) the calls on their way stop at once.
	// context.Background() when nil. Only what must outlive it runs on a context of its
	// own: a record once submitted is written, and a session the journal could not
	// record is ended.
	Context context.Context
	// Remote, when set, says the program runs for a connection from elsewhere
	// (shadow ssh); its journal records the connection's start and end.
	Remote *Remote
	// IdleTimeout, when positive, ends the program after that long without a key,
	// ending the session first (journaled).
	IdleTimeout time.Duration
	// OSC52 lets Y in a detail view send the field under the cursor (an id, an email, a
	// table row's shown value) to the terminal's clipboard (OSC 52);
	// off, Y says how to turn it on (clipboard.go).
	OSC52 bool
	// TypedTokens lets the login screen take an API token instead of email and
	// password (shadow ssh, where there is no SHADOW_TOKEN to give).
	TypedTokens bool
}

// Defaults.
const (
	DefaultTick     = time.Second
	DefaultPoll     = 10 * time.Second
	DefaultPageSize = 100
	// DefaultRequestTimeout bounds one call to the server, retries included.
	DefaultRequestTimeout = 45 * time.Second
	// journalTimeout bounds the wait for one record to be durable; past it the journal
	// counts as failed and the session stops showing data.
	journalTimeout = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	return o
}
