package ui

import "github.com/shadowview/shadow/ui/common"

// Copying a field (an id, an email, a table row's shown value: Y in a detail view, ui/detail) puts it on the terminal's clipboard with
// OSC 52, which Bubble Tea writes to the terminal itself (tea.SetClipboard), never in a
// frame. It is off unless the admin opted in (Options.OSC52: --osc52 or SHADOW_OSC52=1;
// over SSH the client's own SHADOW_OSC52), since it writes to a clipboard outside the
// program — over SSH the client's. A terminal says nothing back about OSC 52, so the view
// says the text was sent, never that it was copied for sure.
//
// A copy is not journaled: it copies what is on the screen already, from a view the
// journal has recorded; the journal records what the server sent, not what the admin
// did with the screen.

// clipboard is the copy policy the pages read from the Context.
func clipboard(opts Options) common.Clipboard {
	if opts.Remote != nil {
		return common.Clipboard{On: opts.OSC52, TurnOn: "connect with ssh -o SetEnv=SHADOW_OSC52=1"}
	}
	return common.Clipboard{On: opts.OSC52, TurnOn: "start shadow with --osc52 (or SHADOW_OSC52=1)"}
}
