// Command shadow is a terminal client for safe, read-only user impersonation.
//
// main.go is CLI wiring only: it parses flags and subcommands, builds the pieces and
// runs them. Behaviour lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/conform"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit statuses (docs/OPERATIONS.md).
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "shadow:", err)
	if errors.As(err, new(usageError)) {
		os.Exit(exitUsage)
	}
	os.Exit(exitError)
}

// usageError is a command line shadow does not understand (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef makes a usageError.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// subcommandError makes a command line `serve` or `journal` does not understand a
// usage error, as shadow's own are.
func subcommandError(err error) error {
	if errors.Is(err, audit.ErrUsage) || errors.Is(err, server.ErrUsage) || errors.Is(err, conform.ErrUsage) {
		return usageError{err}
	}
	return err
}

const usage = `shadow: read-only user impersonation ("shadow viewing") in the terminal.

Usage:
  shadow [flags]                 run the program (the embedded demo when no server is given)
  shadow serve [flags]           run the reference API server (shadow serve --help)
  shadow journal <command>       review, export, verify and sync the audit journal, offline
                                 (shadow journal help)
  shadow conform --server URL    check a server against the contract (shadow conform --help)
  shadow version                 print the version

Flags:
  --server URL      the API server, e.g. https://shadow.example.com (default $SHADOW_SERVER;
                    none: start the embedded demo server on 127.0.0.1 and sign in to it)
  --ca-file FILE    trust the PEM certificates in FILE too (a private CA)
  --insecure        do not verify the server's TLS certificate (warned on every start)
  --cache-dir DIR   response cache directory (default $XDG_CACHE_HOME/shadow)
  --no-cache        keep no response cache on disk
  --state-dir DIR   journal directory root (default $XDG_STATE_HOME/shadow); the demo
                    keeps its own under DIR/demo
  --version         print the version
  -h, --help        this help

Environment:
  SHADOW_SERVER     the API server, when --server is not given
  SHADOW_TOKEN      your own API token for that server; without it a login screen asks
                    for email and password (never stored). Never an impersonation token.
  NO_COLOR          any value: draw without colour (the banner keeps its words and frame)
  XDG_STATE_HOME    default journal location ($HOME/.local/state when unset)
  XDG_CACHE_HOME    default cache location ($HOME/.cache when unset)

Exit status: 0 done; 1 an error (printed); 2 a command line shadow does not understand.
See docs/OPERATIONS.md for files, settings and what each message means.
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "version":
			fmt.Fprintln(stdout, "shadow", version)
			return nil
		case "help":
			fmt.Fprint(stdout, usage)
			return nil
		case "journal":
			return journalCommand(args[1:], stdout, stderr)
		case "serve":
			return serveCommand(args[1:], stdout, stderr)
		case "conform":
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return subcommandError(conform.RunCLI(ctx, args[1:], stdout, stderr))
		}
	}
	return uiCommand(args, stdout, stderr)
}

// uiCommand runs `shadow [flags]`: the terminal program.
func uiCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shadow", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := ui.Config{Version: version, Stderr: stderr}
	fs.StringVar(&cfg.Server, "server", os.Getenv("SHADOW_SERVER"), "")
	fs.StringVar(&cfg.CAFile, "ca-file", "", "")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "")
	fs.BoolVar(&cfg.NoCache, "no-cache", false, "")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "")
	showVersion := fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return usagef("%v (see shadow --help)", err)
	}
	if fs.NArg() > 0 {
		return usagef("unknown command %q (see shadow --help)", fs.Arg(0))
	}
	if *showVersion {
		fmt.Fprintln(stdout, "shadow", version)
		return nil
	}
	cfg.Token = os.Getenv("SHADOW_TOKEN")
	cfg.Demo = ui.DemoServer{Start: startDemoServer,
		Credentials: ui.Credentials{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword}}
	// ctrl+c is a key to the program; a SIGINT from elsewhere stops it like SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return ui.Run(ctx, cfg)
}

// startDemoServer runs the reference server with the demo organisation on loopback.
func startDemoServer(dataDir string) (string, func() error, error) {
	srv, err := server.New(server.Options{DataDir: dataDir, Seed: server.DemoSeed, Version: version})
	if err != nil {
		return "", nil, err
	}
	url, err := srv.Start("")
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	return url, srv.Close, nil
}

const journalDemoUsage = `
  --demo                        the demo's journals (under <state dir>/demo) instead of
                                your own; they sync when the demo runs
`

// journalCommand runs `shadow journal …`: offline review of the audit journal, and sync.
// --demo points it at the demo's journals.
func journalCommand(args []string, stdout, stderr io.Writer) error {
	args, err := demoJournalArgs(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = audit.RunCommand(ctx, args, audit.CommandEnv{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv,
		NewRemote: newStaffRemote(stderr)})
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, journalDemoUsage)
	}
	return subcommandError(err)
}

// demoJournalArgs replaces --demo with --state-dir <state dir>/demo.
func demoJournalArgs(args []string) ([]string, error) {
	demo, stateDir := false, ""
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--demo" || a == "-demo":
			demo = true
			continue
		case a == "--state-dir" || a == "-state-dir":
			if i+1 < len(args) {
				stateDir = args[i+1]
			}
		case strings.HasPrefix(a, "--state-dir=") || strings.HasPrefix(a, "-state-dir="):
			stateDir = a[strings.IndexByte(a, '=')+1:]
		}
		out = append(out, a)
	}
	if !demo {
		return args, nil
	}
	if stateDir == "" {
		d, err := audit.DefaultStateDir()
		if err != nil {
			return nil, err
		}
		stateDir = d
	}
	return append(out, "--state-dir", ui.DemoStateDir(stateDir)), nil
}

// newStaffRemote makes the server client `shadow journal sync` pushes through, warning
// on stderr as the program does (--insecure, plain http).
func newStaffRemote(stderr io.Writer) func(audit.RemoteOptions) (audit.Remote, error) {
	return func(o audit.RemoteOptions) (audit.Remote, error) {
		c, err := client.New(client.Options{BaseURL: o.ServerURL, Version: version, CAFile: o.CAFile,
			InsecureSkipVerify: o.Insecure})
		if err != nil {
			return nil, err
		}
		if w := c.Warning(); w != "" {
			fmt.Fprintln(stderr, "shadow:", w)
		}
		c.SetToken(o.Token)
		return c, nil
	}
}

// serveCommand runs `shadow serve …`: the reference API server until SIGINT or SIGTERM.
func serveCommand(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return subcommandError(server.RunServe(ctx, args, stdout, stderr, version))
}
