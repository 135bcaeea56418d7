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

	"github.com/shadowview/shadow/audit"
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
	if len(args) > 0 && args[0] == "journal" {
		return journalCommand(args[1:])
	}
	return fmt.Errorf("not built yet: %v", args)
}

// journalCommand runs `shadow journal …`: offline review of the audit journal, and sync.
func journalCommand(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return audit.RunCommand(ctx, args, audit.CommandEnv{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
}
