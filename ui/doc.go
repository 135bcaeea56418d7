// Package ui is shadow's terminal UI (Bubble Tea v2, Bubbles v2, Lip Gloss v2).
//
// Flow: (login if needed) → user picker → reason prompt → session (Dashboards,
// Permissions, Journal tabs) → end. While a session is active the red impersonation
// banner is on top of every frame.
//
// # The program
//
// Run is `shadow`: it starts the embedded demo server (or connects to --server), opens
// the response cache, builds the client, runs the root Model in a Bubble Tea program,
// and on the way out ends any session still active and gives the journal CloseTimeout
// to sync. The demo keeps its server's data and its journals under DemoStateDir, apart
// from real use; a second demo at the same time runs on a throwaway server.
//
// Model (model.go) is the root. Its files: effects.go (every tea.Cmd that reaches the
// server or the journal, each on a context derived from the program's), lifecycle.go
// (what the root decides on sign-in, the journal, the session's start, tick, poll and
// end), requests.go (what the pages ask for and where the replies go, each view
// journaled before it is shown), session.go (one session's tabs), remote.go (a
// connection over SSH: its records, the idle timeout), run.go, demo.go.
//
// # The building blocks
//
// The building blocks live in sub-packages, each driven only by api/ values and plain
// messages, so they can be tested without a server:
//
//   - common: the program Context (terminal size, Styles built once per colour
//     profile, global keys, the clock, the active session id), the Component
//     interface (tea.Model + help.KeyMap + SetSize), the Capturer interface, the
//     request Tag convention, and line-layout helpers.
//   - safetext: the only way server text reaches the screen (Clean, Fit, FitMiddle, Pad,
//     Wrap).
//   - banner: the banner's lines, Compose (banner on top, body clipped under it) and
//     the terminal Title.
//   - grid: the generic virtualised table every list uses (columns fixed, flexed, or
//     sized from the rows on screen).
//   - detail: one row whole (a picker user, a matrix cell, a table row, a journal
//     record), scrollable; Y sends the id or value under the cursor over OSC 52 when
//     the admin opted in.
//   - chart: bars, sparklines and braille line charts as text.
//   - login, picker, reason, dashboards, matrix, journalview, shadowed, compare: the pages.
//   - chrome: tab bar, status line, help overlay, dialogs.
//
// The root model owns: the Context (it sets Width/Height on tea.WindowSizeMsg and
// Session when a session starts or ends), which page is shown, the global keys
// (common.GlobalKeys), the client, the journal, the session's lifecycle, and every
// tea.Cmd that talks to them. Its View passes every frame through Compose.
//
// # Seams
//
// Pages ask for data by returning a request message from Update; the root performs it
// in a tea.Cmd and answers with the page's reply message carrying the request's Tag:
//
//	login.Submitted{Tag, Email, Password}      → sign in; on failure login.Failed{Tag, Message}
//	picker.SearchRequested{Tag, Query}         → picker.PageLoaded{Tag, Cursor: "", Page, Err}
//	picker.LoadMore{Tag, Query, Cursor, Back}  → picker.PageLoaded{Tag, Cursor, Back, Page, Err}
//	picker.Picked{User}                        → open the reason prompt: reason.Open(user)
//	reason.Submitted{Tag, User, Reason}        → start the session; on refusal reason.Refused{Tag, Err}
//	reason.Cancelled{User}                     → back to the picker
//	dashboards.ListRequested{Tag}              → dashboards.ListLoaded{Tag, List, Err}
//	dashboards.Requested{Tag, ID}              → dashboards.Loaded{Tag, Dashboard, Err}
//	matrix.Requested{Tag, First}               → matrix.Loaded{Tag, Matrix, Err} (its first page)
//	matrix.MoreRequested{Tag, Cursor, Limit, …} → matrix.MoreLoaded{Tag, Page, Err} (matrixload.go)
//	matrix.ExplainRequested{Tag, Resource, Action} → matrix.ExplainLoaded{Tag, Explanation, Err}
//	(journal changes)                          → journalview.Appended{Entries after LastSeq, Acked}
//	journalview.AuditRequested{Tag}            → journalview.AuditLoaded{Tag, Audit, Err}
//	journalview.Indexed{Tag} (its own command's) → back to the Journal tab, whichever is shown
//	shadowed.Requested{Tag, Cursor, User, Limit} → shadowed.Loaded{Tag, Cursor, Page, Err}
//	shadowed.Closed{}                          → back to the picker
//	matrix.CompareRequested{Resource, Action}  → open the compare view over the session's tabs
//	picker.Picked{User} (in the compare view)  → start a second session, read both matrices
//	                                             and set them side by side: compare.Loaded{Tag, User, Diff, Err}
//	compare.ExplainRequested{Tag, Resource, Action} → explain the cell for both users:
//	                                             compare.ExplainLoaded{Tag, First, Second, Err}
//	compare.Closed{}                           → end the second session (comparing.go)
//
// Rules for the root:
//
//   - Drop any tagged reply whose Tag.Session is not the active session
//     (common.StaleFor) before routing it; the page then drops replies that do not
//     answer its newest request (common.Latest.Current). Pages made for a session are
//     made anew for the next one, so nothing carries over.
//   - Journal every view BEFORE forwarding its Loaded/ListLoaded/ExplainLoaded to the
//     page; if the journal cannot write, send the page the reply with Err set (or stop
//     the session) instead of the data: the pages never show data they were not given.
//     The matrix is one view however many pages it comes in: its one record, written
//     before the first page is shown, names them; a later page is journaled only when
//     it fails or is cancelled (esc, or r reading it again: matrixload.go).
//   - While a page's Capturing() is true (common.Capturer: picker and matrix filters,
//     the reason prompt), send it every key; keep only ctrl+c.
//   - Build pages with New(ctx) and call SetSize(ctx.Width, BodyHeight(ctx, info)) on
//     every resize; give chrome.Status the journal's sync state and the last error.
//   - Declare the window title in View (tea.View.WindowTitle = banner.Title(info)), and
//     redraw at least once a second while a session is active (a tea.Tick), so the
//     banner's countdown moves; banner text is computed from ctx.Now() at each View.
//   - Give chrome.Status.View the hints most important first, e.g.
//     common.KeyMaps{page, ctx.Keys}; what does not fit is cut with an ellipsis.
//
// No page may call the client or the journal itself.
//
// Imports: never server/...: the demo's server comes in as DemoServer.Start. (Tests may.)
package ui
