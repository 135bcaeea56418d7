package dashboards

import (
	"fmt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/detail"
)

// A zoomed table's row, whole (enter or i): every column's value wrapped in the one
// detail view every list opens (ui/detail), a withheld value said as such, and every
// value that is shown copyable.

// TakesEsc reports whether esc closes the open detail view rather than stopping what the
// tab waits for: the root gives the page esc first then.
func (m *Model) TakesEsc() bool { return m.info != nil }

// openRow opens the zoomed table's row under the cursor.
func (m *Model) openRow() {
	g := m.tables[m.widget]
	if g == nil || m.current == nil {
		return
	}
	r, ok := g.Selected()
	if !ok {
		return
	}
	row, _ := g.Cursor()
	w := m.current.Widgets[m.widget]
	title := fmt.Sprintf("%s · row %d of %d", safetext.Clean(w.Title), row+1, g.Len())
	m.info = detail.New(m.ctx, title, m.rowFields(w.Table, r))
	m.info.SetSize(m.width, m.height)
}

// rowFields are a table row's cells under their columns' titles.
func (m *Model) rowFields(t *api.TableData, r api.TableRow) []detail.Field {
	fs := make([]detail.Field, 0, len(t.Columns))
	for c, col := range t.Columns {
		f := detail.Field{Label: col.Title}
		switch {
		case c >= len(r.Cells):
			// a ragged row: the server sent no cell for this column ((none) says so)
		case r.Cells[c].Redacted:
			f.Value, f.Paint = Redacted+" withheld while impersonating", m.ctx.Styles.Redacted
		default:
			f.Value, f.Copy = r.Cells[c].Value, true
		}
		fs = append(fs, f)
	}
	return fs
}
