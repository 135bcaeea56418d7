// Command shadow is a terminal client for safe, read-only user impersonation.
//
// main.go is CLI wiring only: it parses flags and subcommands, builds the pieces and
// runs them. Behaviour lives in the packages.
package main

import (
	"fmt"
	"os"
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
	return fmt.Errorf("not built yet: %v", args)
}
