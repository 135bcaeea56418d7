package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/cache"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/common"
)

// Config is what the command line asks of `shadow` (main builds it from flags and the
// environment).
type Config struct {
	Version string
	// Server is the API's base URL; "" runs the embedded demo (Demo).
	Server string
	// Token is the admin's own token (SHADOW_TOKEN); without one the login screen asks.
	Token string
	// CAFile and Insecure set up TLS (see client.Options).
	CAFile   string
	Insecure bool
	// CacheDir holds the response cache ("" for cache.DefaultDir()); NoCache runs
	// without one.
	CacheDir string
	NoCache  bool
	// StateDir holds the journals ("" for audit.DefaultStateDir()).
	StateDir string
	// Demo starts the embedded server when Server is "".
	Demo DemoServer
	// Input, Output and Stderr default to the process's; Profile, when Output is set,
	// is its colour profile (else detected from the terminal and NO_COLOR).
	Input   io.Reader
	Output  io.Writer
	Stderr  io.Writer
	Profile *colorprofile.Profile
	// Inline draws in the terminal's main screen instead of the alternate one.
	Inline bool
	// OSC52 lets the admin copy ids to the terminal's clipboard (Options.OSC52).
	OSC52 bool
}

// CloseTimeout is how long shadow waits, when it ends, for the journal's pending
// records to sync; what is left syncs the next time it runs.
const CloseTimeout = 3 * time.Second

// Run is `shadow`: it connects (or starts the demo), runs the program until the admin
// quits or ctx ends (the caller cancels it on SIGINT, SIGTERM and SIGHUP), ends any
// session still active, and gives the journal CloseTimeout to sync. Notices (connection
// warnings, records left to sync) go to Stderr, before the program starts and after it
// ends.
func Run(ctx context.Context, cfg Config) error {
	stderr := cfg.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	stateDir, cacheDir := cfg.StateDir, cfg.CacheDir
	var err error
	if stateDir == "" {
		if stateDir, err = audit.DefaultStateDir(); err != nil {
			return err
		}
	}
	if cacheDir == "" && !cfg.NoCache {
		if cacheDir, err = cache.DefaultDir(); err != nil {
			return err
		}
	}
	opts := Options{StateDir: stateDir}
	baseURL := cfg.Server
	if baseURL == "" {
		demo, err := startDemo(cfg.Demo, stateDir, cacheDir)
		if err != nil {
			return err
		}
		defer demo.close()
		baseURL, opts.StateDir, cacheDir = demo.url, demo.stateDir, demo.cacheDir
		opts.Demo, opts.Credentials = true, &cfg.Demo.Credentials
		if demo.notice != "" {
			opts.DemoNotice = demo.notice
			fmt.Fprintln(stderr, "shadow: throwaway demo:", demo.notice)
		}
		if cfg.Token != "" {
			fmt.Fprintln(stderr, "shadow: SHADOW_TOKEN is ignored: no server is given, so the demo signs in by itself")
		}
	}
	var c *cache.Cache
	if !cfg.NoCache {
		c = cache.Open(cache.Options{Dir: cacheDir})
		defer c.Close()
		if w := c.Warning(); w != "" {
			fmt.Fprintln(stderr, "shadow:", w)
		}
	}
	cl, err := client.New(client.Options{BaseURL: baseURL, Version: cfg.Version, CAFile: cfg.CAFile,
		InsecureSkipVerify: cfg.Insecure, Cache: c})
	if err != nil {
		return err
	}
	if w := cl.Warning(); w != "" {
		fmt.Fprintln(stderr, "shadow:", w)
		opts.Notices = append(opts.Notices, w)
	}
	if cfg.Server != "" && cfg.Token != "" {
		cl.SetToken(cfg.Token)
		opts.UseToken = true
	}
	opts.Client = cl
	if cfg.Profile != nil {
		opts.Profile = *cfg.Profile
	} else {
		opts.Profile = common.DetectProfile()
	}
	opts.Inline, opts.OSC52 = cfg.Inline, cfg.OSC52
	opts.ASCII = common.NoLineDrawing(os.Environ())
	// Every request derives from reqCtx: a signal, or the program ending, stops the
	// calls on their way at once (Shutdown's own calls come after, on their own).
	reqCtx, cancelRequests := context.WithCancel(ctx)
	defer cancelRequests()
	opts.Context = reqCtx
	m := New(opts)
	// Signals are ctx's alone: with Bubble Tea's own handler too, a SIGTERM could make it
	// both quit and be killed at once, and its shutdown then waits on itself for ever.
	// The renderer draws with the profile the styles were built for.
	progOpts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler(), tea.WithColorProfile(opts.Profile)}
	if cfg.Input != nil {
		progOpts = append(progOpts, tea.WithInput(cfg.Input))
	}
	if cfg.Output != nil {
		progOpts = append(progOpts, tea.WithOutput(cfg.Output))
	}
	_, runErr := tea.NewProgram(m, progOpts...).Run()
	cancelRequests()
	m.ProgramEnded(runErr)
	closeErr := m.Shutdown(stderr)
	switch {
	case errors.Is(closeErr, ErrInternal):
		return closeErr
	case runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled):
		return errors.Join(fmt.Errorf("terminal: %w", runErr), closeErr)
	case errors.Is(runErr, tea.ErrProgramKilled) && ctx.Err() != nil:
		return errors.Join(fmt.Errorf("stopped (%w); any session was ended and journaled", context.Cause(ctx)), closeErr)
	case closeErr != nil:
		return closeErr
	case m.failed():
		return errors.New(m.over.lines[0])
	}
	return nil
}

// Shutdown finishes what the program could not: a session still active when the
// program was stopped (a signal, a dead terminal) is ended on the server and journaled;
// then the journal gets CloseTimeout to sync, and the admin is told what is left. After a
// crash (a recovered panic) it says so with the stack and returns ErrInternal, so the
// command exits 1. Safe to call once the program has returned.
func (m *Model) Shutdown(stderr io.Writer) error {
	ended := "ended: shadow was stopped"
	if m.crash != nil {
		ended = "ended: " + m.crash.why()
	}
	// The compares' sessions first, every one the server started, even one whose
	// compare was still starting (seconds.go).
	m.seconds.close()
	if m.journal != nil {
		err, jerr := m.seconds.endOf(m.secondEnd(api.ActionSessionEnd, ended+" (the compare's session)", false), "")
		if err != nil {
			fmt.Fprintf(stderr, "shadow: %v\n", err)
		}
		if jerr != nil {
			fmt.Fprintf(stderr, "shadow: the end of the compare's session could not be journaled: %v\n", jerr)
		}
	}
	for _, s := range []*session{m.sess, m.ending} {
		if s == nil {
			continue
		}
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), m.opts.RequestTimeout)
		err := m.opts.Client.EndSession(ctx, s.id)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "shadow: the session with %s could not be ended on the server (%v); its token is forgotten and it runs out by its expiry\n", s.info.User, err)
		}
		if m.journal != nil {
			if jerr := appendDurably(m.journal, m.record(api.ActionSessionEnd, s.id, &s.user, ended)); jerr != nil {
				fmt.Fprintf(stderr, "shadow: the end of the session could not be journaled: %v\n", jerr)
			}
		}
	}
	m.sess, m.ending = nil, nil
	if m.opts.Remote != nil && m.journal != nil {
		if err := appendDurably(m.journal, m.disconnectRecord()); err != nil {
			fmt.Fprintf(stderr, "shadow: the end of the connection could not be journaled: %v\n", err)
		}
	}
	if m.stopStatus != nil {
		m.stopStatus()
	}
	var crashErr error
	if c := m.crash; c != nil {
		fmt.Fprintf(stderr, "shadow: %s; any session was ended and journaled\n", c.why())
		if len(c.stack) > 0 {
			fmt.Fprintf(stderr, "%s\n", c.stack)
		}
		crashErr = fmt.Errorf("%w: %s", ErrInternal, c.value)
	}
	if m.journal == nil || m.opts.Journal != nil {
		return crashErr // not signed in yet, or the caller owns the journal
	}
	j := m.journal
	if n := j.Status().Pending; n > 0 {
		fmt.Fprintf(stderr, "shadow: syncing %d journal %s…\n", n, words.Plural(int(n), "record", "records"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	defer cancel()
	err := j.Close(ctx)
	if errors.Is(err, audit.ErrUnsynced) {
		n := j.Status().Pending
		fmt.Fprintf(stderr, "shadow: %d journal %s will sync next time (kept in %s; or run `shadow journal sync`)\n",
			n, words.Plural(int(n), "record", "records"), audit.JournalsDir(j.StateDir()))
		return crashErr
	}
	if err != nil {
		return errors.Join(crashErr, fmt.Errorf("close the journal: %w", err))
	}
	return crashErr
}

// ProgramEnded tells the model how its program ended, before Shutdown: a panic Bubble
// Tea recovered (in a tea.Cmd, out of the root's reach) is a crash like one the root
// recovered itself, so Shutdown journals it as the session's end and returns ErrInternal.
func (m *Model) ProgramEnded(runErr error) {
	if errors.Is(runErr, tea.ErrProgramPanic) && m.crash == nil {
		m.crash = &crash{value: "a panic in a background task; Bubble Tea printed its stack"}
	}
}
