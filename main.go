// Command shadow is a terminal client for safe, read-only user impersonation.
//
// main.go is CLI wiring only: it parses flags and subcommands, builds the pieces and
// runs them. Behaviour lives in the packages.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/conform"
	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui"
	"github.com/shadowview/shadow/ui/sshserve"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "shadow:", err)
	os.Exit(cli.ExitCode(err))
}

const usage = `shadow: read-only user impersonation ("shadow viewing") in the terminal.

Usage:
  shadow [flags]                 run the program (the embedded demo when no server is given)
  shadow serve [flags]           run the reference API server (shadow serve --help)
  shadow ssh [flags]             serve the program over SSH on a support box
                                 (shadow ssh --help)
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
  --osc52           let Y in a detail view (i, enter) send the id or value under the
                    cursor to your terminal's clipboard with OSC 52 (default
                    $SHADOW_OSC52; off: it writes outside shadow)
  --version         print the version
  -h, --help        this help

Environment:
  SHADOW_SERVER     the API server, when --server is not given
  SHADOW_TOKEN      your own API token for that server; without it a login screen asks
                    for email and password (never stored). Never an impersonation token.
  SHADOW_OSC52      1, true, yes or on: as --osc52
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
			if err := (cli.Command{Name: "version", Help: "usage: shadow version\n"}).NoArgs(args[1:]); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "shadow", version)
			return nil
		case "help":
			fmt.Fprint(stdout, usage)
			return nil
		case "journal":
			return journalCommand(args[1:], stdout, stderr)
		case "serve":
			return serveCommand(args[1:], stdout, stderr)
		case "ssh":
			return sshCommand(args[1:], stdout, stderr)
		case "conform":
			ctx, stop := signal.NotifyContext(context.Background(), cli.StopSignals...)
			defer stop()
			return conform.RunCLI(ctx, args[1:], stdout, stderr)
		}
	}
	return uiCommand(args, stdout, stderr)
}

// uiCommand runs `shadow [flags]`: the terminal program.
func uiCommand(args []string, stdout, stderr io.Writer) error {
	cmd := cli.Command{Help: usage}
	fs := cmd.Flags()
	cfg := ui.Config{Version: version, Stderr: stderr}
	fs.StringVar(&cfg.Server, "server", os.Getenv("SHADOW_SERVER"), "")
	fs.StringVar(&cfg.CAFile, "ca-file", "", "")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "")
	fs.BoolVar(&cfg.NoCache, "no-cache", false, "")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "")
	fs.BoolVar(&cfg.OSC52, "osc52", cli.EnvOn(os.Environ(), "SHADOW_OSC52"), "")
	showVersion := fs.Bool("version", false, "")
	positional, help, err := cmd.Parse(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if len(positional) > 0 {
		return cmd.Usagef("unknown command %q", positional[0])
	}
	if *showVersion {
		fmt.Fprintln(stdout, "shadow", version)
		return nil
	}
	if cfg.Server != "" {
		if err := cmd.ServerURL("--server", cfg.Server); err != nil {
			return err
		}
	}
	cfg.Token = os.Getenv("SHADOW_TOKEN")
	cfg.Demo = ui.DemoServer{Start: startDemoServer,
		Credentials: ui.Credentials{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword}}
	// ctrl+c is a key to the program; a SIGINT from elsewhere stops it like SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), cli.StopSignals...)
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

// journalCommand runs `shadow journal …`: offline review of the audit journal, and sync.
// Its --demo (audit's) reads the demo's journals, under ui.DemoStateDir.
func journalCommand(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), cli.StopSignals...)
	defer stop()
	return audit.RunCommand(ctx, args, audit.CommandEnv{Stdout: stdout, Stderr: stderr, Stdin: os.Stdin, Getenv: os.Getenv,
		NewRemote: newStaffRemote(stderr), DemoStateDir: ui.DemoStateDir})
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

// serveCommand runs `shadow serve …`: the reference API server until SIGINT, SIGTERM or
// SIGHUP.
func serveCommand(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), cli.StopSignals...)
	defer stop()
	return server.RunServe(ctx, args, stdout, stderr, version)
}

const sshUsage = `usage: shadow ssh [flags]

Serve shadow over SSH on a support box: each key in the authorized keys file may
connect (ssh -p PORT host) and gets its own program, its own sign-in to the API server
(password or token typed in the session, never stored) and its own journal under
<state dir>/ssh/<key fingerprint>/, synced like any other. A PTY is required; commands,
SFTP, port and agent forwarding are refused. See docs/OPERATIONS.md, "Support box".
`

// sshCommand runs `shadow ssh …`: the program served over SSH until SIGINT, SIGTERM or
// SIGHUP, which end every connection's session (journaled) before it exits.
func sshCommand(args []string, stdout, stderr io.Writer) error {
	cmd := cli.Command{Name: "ssh", Help: sshUsage}
	fs := cmd.Flags()
	cfg := sshserve.Config{Version: version, Log: stderr}
	fs.StringVar(&cfg.Addr, "addr", sshserve.DefaultAddr, "address to listen on")
	fs.StringVar(&cfg.Server, "server", os.Getenv("SHADOW_SERVER"), "the API server (default $SHADOW_SERVER)")
	fs.StringVar(&cfg.AuthorizedKeys, "authorized-keys", "", "public keys that may connect, OpenSSH's format (default <state dir>/ssh/authorized_keys)")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "state directory root (default $XDG_STATE_HOME/shadow): host key and journals under DIR/ssh")
	fs.StringVar(&cfg.CAFile, "ca-file", "", "trust the PEM certificates in `FILE` too (a private CA)")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "do not verify the server's TLS certificate (warned on every connection)")
	fs.IntVar(&cfg.MaxPerKey, "max-per-key", sshserve.DefaultMaxPerKey, "connections one key may have at once")
	fs.IntVar(&cfg.MaxTotal, "max-connections", sshserve.DefaultMaxTotal, "connections at once in all")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", sshserve.DefaultIdleTimeout, "end a connection (and its session) after this long without a keystroke")
	positional, help, err := cmd.Parse(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if err := cmd.NoArgs(positional); err != nil {
		return err
	}
	switch {
	case cfg.Server == "":
		return cmd.Usagef("give the API server with --server URL (or SHADOW_SERVER)")
	case cfg.MaxPerKey < 1:
		return cmd.Usagef("--max-per-key %d: give 1 or more", cfg.MaxPerKey)
	case cfg.MaxTotal < 1:
		return cmd.Usagef("--max-connections %d: give 1 or more", cfg.MaxTotal)
	case cfg.IdleTimeout <= 0:
		return cmd.Usagef("--idle-timeout %s: give a positive duration, e.g. 15m", cfg.IdleTimeout)
	}
	if err := cmd.ServerURL("--server", cfg.Server); err != nil {
		return err
	}
	if cfg.StateDir == "" {
		if cfg.StateDir, err = audit.DefaultStateDir(); err != nil {
			return err
		}
	}
	if cfg.AuthorizedKeys == "" {
		cfg.AuthorizedKeys = filepath.Join(sshserve.Dir(cfg.StateDir), "authorized_keys")
	}
	ctx, stop := signal.NotifyContext(context.Background(), cli.StopSignals...)
	defer stop()
	return sshserve.Run(ctx, cfg, stdout)
}
