package uitest

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/ui/common"
)

// Key is the key message Bubble Tea sends for a key name ("down", "enter", "esc",
// "shift+tab", "ctrl+c", …) or, for anything else, for typing it (one character: the
// terminal's input is read a key at a time).
func Key(k string) tea.KeyPressMsg {
	named := map[string]tea.Key{
		"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "left": {Code: tea.KeyLeft}, "right": {Code: tea.KeyRight},
		"pgup": {Code: tea.KeyPgUp}, "pgdown": {Code: tea.KeyPgDown}, "home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd},
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "tab": {Code: tea.KeyTab},
		"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift}, "backspace": {Code: tea.KeyBackspace},
		"ctrl+c": {Code: 'c', Mod: tea.ModCtrl}, "ctrl+f": {Code: 'f', Mod: tea.ModCtrl}, "space": {Code: tea.KeySpace, Text: " "},
	}
	if key, ok := named[k]; ok {
		return tea.KeyPressMsg(key)
	}
	r := []rune(k)[0]
	key := tea.Key{Code: r, Text: k}
	if unicode.IsUpper(r) {
		key.Code, key.ShiftedCode, key.Mod = unicode.ToLower(r), r, tea.ModShift
	}
	return tea.KeyPressMsg(key)
}

// Msgs runs a command and returns the messages it produces, opening batches and
// sequences. Commands are run in order on this goroutine; a tea.Tick blocks for its
// duration, so tests give debounces a short one.
func Msgs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, Msgs(c)...)
		}
		return out
	default:
		// tea.Sequence's message type is unexported; it is a []tea.Cmd underneath.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			var out []tea.Msg
			for i := 0; i < v.Len(); i++ {
				out = append(out, Msgs(v.Index(i).Interface().(tea.Cmd))...)
			}
			return out
		}
		return []tea.Msg{msg}
	}
}

// Find returns the first message of type M among msgs.
func Find[M any](msgs []tea.Msg) (M, bool) {
	for _, m := range msgs {
		if v, ok := m.(M); ok {
			return v, true
		}
	}
	var zero M
	return zero, false
}

// Press sends keys to a model — the root (a tea.Model) or a page (a common.Component)
// — one by one and returns the messages their commands produced, in order.
func Press(m interface{ Init() tea.Cmd }, keys ...string) []tea.Msg {
	update := func(msg tea.Msg) tea.Cmd {
		switch m := m.(type) {
		case tea.Model:
			_, cmd := m.Update(msg)
			return cmd
		case common.Component:
			_, cmd := m.Update(msg)
			return cmd
		}
		panic(fmt.Sprintf("uitest.Press: %T is neither a tea.Model nor a common.Component", m))
	}
	var out []tea.Msg
	for _, k := range keys {
		out = append(out, Msgs(update(Key(k)))...)
	}
	return out
}

// Percentiles reports the p50 and p99 of ds as a benchmark's figures (ns/op 0: a mean
// would hide the tail).
func Percentiles(b *testing.B, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
