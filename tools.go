//go:build tools

// Package main's tools.go pins the dependencies the packages being built will import,
// so parallel work does not fight over go.mod. Removed once every one is imported.
package main

import (
	_ "github.com/charmbracelet/bubbles/list"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/x/ansi"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "github.com/creack/pty"
	_ "github.com/go-resty/resty/v2"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/oklog/ulid/v2"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/bcrypt"
)
