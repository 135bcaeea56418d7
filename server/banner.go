package server

import (
	"fmt"
	"strings"
)

// Banner is what `shadow serve` prints on start: where it listens, the demo
// credentials (public, demo only) and where state lives.
func Banner(baseURL, dataDir string, throwaway bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "shadow reference server listening on %s\n", baseURL)
	fmt.Fprintf(&b, "  demo sign-in: %s / %s  (demo only: this password is public)\n", DemoSupportEmail, DemoSupportPassword)
	fmt.Fprintf(&b, "  every demo account uses the same password; see docs/DEMO.md\n")
	if throwaway {
		fmt.Fprintf(&b, "  state: throwaway (%s, removed on exit)\n", dataDir)
	} else {
		fmt.Fprintf(&b, "  state: %s\n", dataDir)
	}
	fmt.Fprintf(&b, "  try: curl -s %s/healthz\n", baseURL)
	fmt.Fprintf(&b, "  stop with Ctrl-C\n")
	return b.String()
}
