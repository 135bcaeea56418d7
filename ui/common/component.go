package common

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Component is one page or panel of the UI, in the manner of soft-serve's: a model
// whose Update returns itself (components use pointer receivers) and whose View is the
// text of its part of the frame, a help.KeyMap that feeds the status line and the help
// overlay, and SetSize for the cells the root gives it. View must return at most the
// given height of lines, each at most the given width of cells. (Only the root is a
// tea.Model: the frame's declarations — window title, alternate screen — are its.)
type Component interface {
	Init() tea.Cmd
	Update(tea.Msg) (Component, tea.Cmd)
	View() string
	help.KeyMap
	SetSize(width, height int)
}

// Capturer is implemented by components with a text input. While Capturing is true the
// root must send them every key (letters like q and digits included) and keep only
// ctrl+c for itself.
type Capturer interface {
	Capturing() bool
}

// GlobalKeys are the bindings the root model owns. Components never bind these keys
// (except while capturing text).
type GlobalKeys struct {
	Quit    key.Binding // ctrl+c: end the session and quit
	Help    key.Binding // ?: the full help overlay
	NextTab key.Binding
	PrevTab key.Binding
	Tab1    key.Binding
	Tab2    key.Binding
	Tab3    key.Binding
	End     key.Binding // q: ask to end the session
	Confirm key.Binding // y: confirm ending
}

// DefaultGlobalKeys are the root's bindings.
func DefaultGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Quit:    key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "end & quit")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextTab: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next tab")),
		PrevTab: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous tab")),
		Tab1:    key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "dashboards")),
		Tab2:    key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "permissions")),
		Tab3:    key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "journal")),
		End:     key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "end session")),
		Confirm: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "end session")),
	}
}

// TabKeys are the keys that pick a tab, in the tabs' order.
func (k GlobalKeys) TabKeys() []key.Binding { return []key.Binding{k.Tab1, k.Tab2, k.Tab3} }

// ShortHelp lists the global keys worth a place in the status line.
func (k GlobalKeys) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.NextTab, k.End} }

// FullHelp lists every global key.
func (k GlobalKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{append([]key.Binding{k.NextTab, k.PrevTab}, k.TabKeys()...), {k.Help, k.End, k.Quit}}
}

// KeyMaps joins key maps for help: the short helps end to end, the full helps' columns
// side by side. The component's own keys go first.
type KeyMaps []help.KeyMap

// ShortHelp implements help.KeyMap.
func (ks KeyMaps) ShortHelp() []key.Binding {
	var out []key.Binding
	for _, k := range ks {
		out = append(out, k.ShortHelp()...)
	}
	return out
}

// FullHelp implements help.KeyMap.
func (ks KeyMaps) FullHelp() [][]key.Binding {
	var out [][]key.Binding
	for _, k := range ks {
		out = append(out, k.FullHelp()...)
	}
	return out
}

// Emit wraps a message in a tea.Cmd, for components that answer a key with a request.
func Emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
