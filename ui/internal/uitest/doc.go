// Package uitest holds what the ui packages' tests share: the fixed clock, the terminal
// sizes and colour profiles every screen is drawn at, a Context built from them, golden
// files (Golden), the invariants every frame must keep (AssertFrame: size, no escape
// sequence but colour, no control or bidi character), helpers that drive a Bubble Tea
// model (Key, Press, Msgs, Find), and deterministic API fixtures (users, permission
// matrices, dashboards, journal entries).
//
// It is test code only: imported from _test.go files, never by the program, and it
// never talks to a server (tests that need one start the real reference server).
//
// Imports: never server/..., client or audit.
package uitest
