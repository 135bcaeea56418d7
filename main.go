// Command shadow is a terminal client for safe, read-only user impersonation.
//
// main.go is CLI wiring only: it parses flags and subcommands, builds the pieces and
// runs them. Behaviour lives in the packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shadow:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && (args[0] == "version" || args[0] == "--version") {
		fmt.Println("shadow", version)
		return nil
	}
	if len(args) > 0 {
		switch args[0] {
		case "journal":
			return journalCommand(args[1:])
		case "serve":
			return serveCommand(args[1:])
		}
	}
	return fmt.Errorf("not built yet: %v", args)
}

// journalCommand runs `shadow journal …`: offline review of the audit journal, and sync.
func journalCommand(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return audit.RunCommand(ctx, args, audit.CommandEnv{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		NewRemote: newStaffRemote})
}

// newStaffRemote is the server client `shadow journal sync` pushes through.
func newStaffRemote(serverURL, token string) (audit.Remote, error) {
	c, err := client.New(client.Options{BaseURL: serverURL, Version: version})
	if err != nil {
		return nil, err
	}
	if w := c.Warning(); w != "" {
		fmt.Fprintln(os.Stderr, "shadow:", w)
	}
	c.SetToken(token)
	return c, nil
}

// serveCommand runs `shadow serve …`: the reference API server until SIGINT or SIGTERM.
func serveCommand(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.RunServe(ctx, args, os.Stdout, os.Stderr, version)
}
