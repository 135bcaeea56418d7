// Command shadow is a terminal client for safe, read-only user impersonation.
//
// main.go is CLI wiring only: it parses flags and subcommands, builds the pieces and
// runs them. Behaviour lives in the packages.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

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
		case "serve":
			return runServe(args[1:])
		}
	}
	return fmt.Errorf("not built yet: %v", args)
}

// runServe is `shadow serve`: the reference API server, standalone, until SIGINT or
// SIGTERM.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback unless --allow-remote)")
	data := fs.String("data", "", "data directory (bbolt state, audit signing key); empty: a throwaway store")
	users := fs.Int("generate-users", 0, "add this many generated users, for scale tests")
	resources := fs.Int("generate-resources", 0, "add this many generated resources to Acme Logistics")
	hostile := fs.Bool("hostile", false, "add a company whose names and cells hold escape sequences and other hostile text")
	remote := fs.Bool("allow-remote", false, "allow a non-loopback --addr (plain HTTP, public demo password: think twice)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	srv, err := server.New(server.Options{
		DataDir:     *data,
		Seed:        server.Seed{Demo: true, GenerateUsers: *users, GenerateResources: *resources, Hostile: *hostile},
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		AllowRemote: *remote,
		Version:     version,
	})
	if err != nil {
		return err
	}
	url, err := srv.Start(*addr)
	if err != nil {
		srv.Close()
		return err
	}
	fmt.Print(server.Banner(url, srv.DataDir(), *data == ""))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "shadow: shutting down")
	return srv.Close()
}
