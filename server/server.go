// Package server is shadow's reference API server: a real implementation of the
// read-only impersonation contract in api/ and docs/API.md. It is the embedded demo
// default, the peer of every test, and `shadow serve`.
//
// It owns HTTP: authentication and tokens, the read-only guarantee (one middleware,
// before routing), per-route access, the error envelope, ETags, limits, request
// auditing, and wiring the domain packages below it (org, authz, policy, views, store,
// ratelimit), which hold the logic and have no HTTP in them.
//
// It must never write a token or a password anywhere (logs, disk, audit), never let an
// impersonation token through an unsafe method, and never answer an impersonated
// request it failed to audit.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/notify"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/ratelimit"
	"github.com/shadowview/shadow/server/store"
)

// Seed says which organisation the server is seeded with; see org.Seed. The zero Seed
// means DemoSeed.
type Seed = org.Seed

// DemoSeed is the demo organisation.
var DemoSeed = org.DemoSeed

// The demo's well-known identities (see docs/DEMO.md for every account). All share
// DemoSupportPassword; it is public and for the demo only.
const (
	DemoSupportEmail           = org.DemoSupportEmail
	DemoSupportPassword        = org.DemoPassword
	DemoAgentEmail             = org.DemoAgentEmail
	DemoNarrowAgentEmail       = org.DemoNarrowAgentEmail
	DemoFleetManagerEmail      = org.DemoFleetManagerEmail
	DemoFleetManagerID         = org.DemoFleetManagerID
	DemoSouthFleetManagerEmail = org.DemoSouthFleetManagerEmail
	DemoTechnicianEmail        = org.DemoTechnicianEmail
	DemoTechnicianID           = org.DemoTechnicianID
	DemoCompanyAdminEmail      = org.DemoCompanyAdminEmail
	DemoCompanyAdminID         = org.DemoCompanyAdminID
	DemoOpsLeadEmail           = org.DemoOpsLeadEmail
	DemoPeerOpsLeadEmail       = org.DemoPeerOpsLeadEmail
	DemoNoRoleEmail            = org.DemoNoRoleEmail
	DemoOptedOutEmail          = org.DemoOptedOutEmail
	DemoOptedOutID             = org.DemoOptedOutID
	DemoOutOfScopeEmail        = org.DemoOutOfScopeEmail
	DemoOutOfScopeID           = org.DemoOutOfScopeID
	DemoHostileEmail           = org.DemoHostileEmail
)

// Defaults.
const (
	DefaultSessionTTL = api.MaxSessionTTL
	DefaultTokenTTL   = 8 * time.Hour
	// DefaultClockSkew allows for clients whose clocks are a little off the server's.
	DefaultClockSkew = 2 * time.Minute
	// DefaultMaxOpenSessions: shadow holds one session at a time; ten at once is more
	// than any person shadowing users needs.
	DefaultMaxOpenSessions = 10
	// DefaultJournalRecordsPerMinute and DefaultJournalRecordBurst: a person writes a
	// few records a minute; a journal that was offline for days drains its backlog in
	// one burst (shadow's benchmark drains 20,000 records at once).
	DefaultJournalRecordsPerMinute = 1_000
	DefaultJournalRecordBurst      = 25_000
	// DefaultUploaderRecordsPerMinute and DefaultUploaderRecordBurst cap the new records
	// one identity uploads across all its journals, so new journal ids do not multiply
	// the per-journal cap: two journals' worth. DefaultNewJournalsPerHour caps the
	// journals one identity starts (shadow keeps one per machine, and starts another
	// only when it sets a damaged one aside).
	DefaultUploaderRecordsPerMinute = 2_000
	DefaultUploaderRecordBurst      = 50_000
	DefaultNewJournalsPerHour       = 60
)

// Options configure a Server.
type Options struct {
	// DataDir holds the state file and the audit signing key. "" means a throwaway
	// store in a temporary directory, removed on Close.
	DataDir string
	// Seed picks the organisation (zero: DemoSeed).
	Seed Seed
	// Now is the clock (nil: time.Now). Tests move it to expire sessions and tokens.
	Now func() time.Time
	// SessionTTL is the default impersonation session length, capped at
	// api.MaxSessionTTL (0: DefaultSessionTTL).
	SessionTTL time.Duration
	// TokenTTL is how long a login token lives (0: DefaultTokenTTL).
	TokenTTL time.Duration
	// PasswordCost is the bcrypt cost for passwords (0: bcrypt.DefaultCost). Tests and
	// benchmarks lower it to keep hashing out of the measurement.
	PasswordCost int
	// Logger receives one line per request and lifecycle messages (nil: discarded).
	// It never receives a token or a password.
	Logger *slog.Logger
	// AllowRemote lets Start listen on a non-loopback address. The demo's password is
	// public and the server speaks plain HTTP, so this is off by default.
	AllowRemote bool
	// Version is reported by GET /healthz.
	Version string
	// Webhooks are the companies told, by a signed webhook, when a session on one of
	// their users starts and ends (nil: none). See server/notify.
	Webhooks notify.Config
	// AllowedHosts are host names (or addresses) the server answers to besides the
	// loopback names localhost, 127.0.0.1 and ::1, on any port; a request whose Host
	// header names another is refused 421 host_not_allowed (DNS rebinding). Entries
	// may carry a port, which is ignored, and may be comma-separated lists.
	AllowedHosts []string
	// ClockSkew is how far a journal record's time may stray outside its session's
	// life and still be verified, and how far the reconciliation lets a record's time
	// precede the request it accounts for (0: DefaultClockSkew).
	ClockSkew time.Duration
	// MaxOpenSessions caps the sessions one identity may have active at once; the next
	// start is 429 rate_limited until one ends (0: DefaultMaxOpenSessions; negative:
	// no cap).
	MaxOpenSessions int
	// JournalRecordsPerMinute and JournalRecordBurst cap the new records one journal
	// takes: a bucket of JournalRecordBurst records refilled at JournalRecordsPerMinute;
	// a range beyond it is 429 rate_limited with Retry-After (0: the defaults;
	// JournalRecordsPerMinute negative: no cap).
	JournalRecordsPerMinute int
	JournalRecordBurst      int
	// UploaderRecordsPerMinute and UploaderRecordBurst cap the new records one identity
	// uploads across all its journals, the same way (0: the defaults; negative: no cap).
	UploaderRecordsPerMinute int
	UploaderRecordBurst      int
	// NewJournalsPerHour caps the journals one identity starts (its first records) an
	// hour, beyond a burst of as many; the next is 429 rate_limited with Retry-After
	// (0: DefaultNewJournalsPerHour; negative: no cap).
	NewJournalsPerHour int

	// impersonationEvents bounds the events one GET /me/impersonations reads (0:
	// maxImpersonationEvents); tests lower it.
	impersonationEvents int
}

// Server is the reference API server.
type Server struct {
	now       func() time.Time
	log       *slog.Logger
	dir       string
	removeDir bool
	store     *store.Store
	key       store.SigningKey
	// cursorKey signs matrix cursors (matrixcursor.go), derived from key once.
	cursorKeyOnce sync.Once
	cursorKey     []byte
	jwtKey        []byte
	sessionTTL    time.Duration
	tokenTTL      time.Duration
	hashCost      int
	demoHash      []byte // every seeded account's hash; also spent on unknown emails
	version       string
	allowAny      bool
	hosts         hostAllowList
	skew          time.Duration
	maxOpen       int

	writeMu sync.Mutex   // serialises writers: persist, then apply
	mu      sync.RWMutex // guards org's maps
	org     *org.Org
	data    dataVersion // org's version, for the data views' ETags (etags.go)

	sessMu   sync.Mutex
	sessions map[string]*store.Session
	opening  map[string]int // per actor, sessions being started (reserveOpenSession)

	emailLimit *ratelimit.Limiter
	ipLimit    *ratelimit.Limiter
	// throttled picks which throttled sign-ins and refused journal writes get an
	// audit event of their own (the first per key and window; then a count).
	throttled        *ratelimit.Suppressor
	refusedPuts      *ratelimit.Suppressor
	journalQuota     *ratelimit.Bucket // nil: no cap
	journalPerMinute int
	uploaderQuota    *ratelimit.Bucket // records per identity, across its journals; nil: no cap
	uploaderPerMin   int
	newJournals      *ratelimit.Bucket // journals started per identity; nil: no cap
	newJournalsPerH  int
	// impersonationEvents bounds the events one GET /me/impersonations reads.
	impersonationEvents int

	notifier *notify.Notifier

	routes  map[string]api.Route // pattern -> route
	handler http.Handler

	startMu       sync.Mutex
	sweepInterval time.Duration // how often a started server records due expiries
	httpSrv       *http.Server
	stopTick      chan struct{}
	closed        bool
}

// demoPasswordHash is bcrypt(DemoSupportPassword) at bcrypt.DefaultCost, computed once
// ahead of time: hashing at start would cost ~60 ms, and the demo must start fast.
// The password is public, so its hash is no secret. TestDemoPasswordHash checks it.
const demoPasswordHash = "$2a$10$7lBzAV.h15p43xSnpr9hK.CKdHcSHUq9U5LtliX.lZr8WNArjEhSS"

// Login throttling: failures per email and per client address within a window.
const (
	loginFailuresPerEmail = 5
	loginFailuresPerIP    = 20
	loginWindow           = 15 * time.Minute
)

// File names under DataDir.
const (
	stateFile = "server.db"
	keyFile   = "audit-signing-key.pem"
)

// New builds a server: opens (or creates) its state, seeds the organisation, applies
// what users changed in earlier runs, and revokes sessions a previous run left open
// (their tokens died with its signing key).
func New(opts Options) (*Server, error) {
	s := &Server{
		now:        opts.Now,
		log:        opts.Logger,
		sessionTTL: opts.SessionTTL,
		tokenTTL:   opts.TokenTTL,
		hashCost:   opts.PasswordCost,
		version:    opts.Version,
		allowAny:   opts.AllowRemote,
		sessions:   map[string]*store.Session{},
		opening:    map[string]int{},
		jwtKey:     []byte(randomHex(32)),

		sweepInterval: 10 * time.Second,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.sessionTTL <= 0 || s.sessionTTL > api.MaxSessionTTL {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = DefaultTokenTTL
	}
	if s.hashCost == 0 {
		s.hashCost = bcrypt.DefaultCost
	}
	if s.hashCost < bcrypt.MinCost || s.hashCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("password cost %d: want %d..%d", s.hashCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	s.demoHash = []byte(demoPasswordHash)
	if s.hashCost != bcrypt.DefaultCost {
		h, err := bcrypt.GenerateFromPassword([]byte(DemoSupportPassword), s.hashCost)
		if err != nil {
			return nil, fmt.Errorf("hash demo password: %w", err)
		}
		s.demoHash = h
	}
	s.emailLimit = ratelimit.New(loginFailuresPerEmail, loginWindow, s.now)
	s.ipLimit = ratelimit.New(loginFailuresPerIP, loginWindow, s.now)
	s.throttled = ratelimit.NewSuppressor(loginWindow, s.now)
	s.refusedPuts = ratelimit.NewSuppressor(time.Minute, s.now)
	var err error
	if s.hosts, err = newHostAllowList(opts.AllowedHosts); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.skew = cmp.Or(opts.ClockSkew, DefaultClockSkew)
	s.maxOpen = cmp.Or(opts.MaxOpenSessions, DefaultMaxOpenSessions)
	s.impersonationEvents = cmp.Or(opts.impersonationEvents, maxImpersonationEvents)
	if s.journalPerMinute = cmp.Or(opts.JournalRecordsPerMinute, DefaultJournalRecordsPerMinute); s.journalPerMinute > 0 {
		s.journalQuota = ratelimit.NewBucket(s.journalPerMinute, cmp.Or(opts.JournalRecordBurst, DefaultJournalRecordBurst), s.now)
	}
	if s.uploaderPerMin = cmp.Or(opts.UploaderRecordsPerMinute, DefaultUploaderRecordsPerMinute); s.uploaderPerMin > 0 {
		s.uploaderQuota = ratelimit.NewBucket(s.uploaderPerMin, cmp.Or(opts.UploaderRecordBurst, DefaultUploaderRecordBurst), s.now)
	}
	if s.newJournalsPerH = cmp.Or(opts.NewJournalsPerHour, DefaultNewJournalsPerHour); s.newJournalsPerH > 0 {
		s.newJournals = ratelimit.NewBucketPer(s.newJournalsPerH, time.Hour, s.newJournalsPerH, s.now)
	}

	if err := s.openDir(opts.DataDir); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.closeNotifier()
			s.closeStorage()
		}
	}()
	if s.key, err = store.LoadOrCreateKey(filepath.Join(s.dir, keyFile)); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if s.store, err = store.Open(filepath.Join(s.dir, stateFile)); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if s.org, err = org.Build(opts.Seed, s.now(), s.demoHash); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if err := s.loadChanges(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if err := s.newNotifier(opts.Webhooks); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if err := s.loadSessions(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if err := s.migrateJournalTrust(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.handler = s.buildHandler()
	ok = true
	return s, nil
}

func (s *Server) openDir(dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "shadow-server-")
		if err != nil {
			return fmt.Errorf("new server: throwaway store: %w", err)
		}
		s.dir, s.removeDir = tmp, true
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("new server: data dir: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("new server: data dir: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("new server: data dir %s is not a directory", dir)
	}
	if info.Mode().Perm()&0o077 != 0 {
		s.log.Warn("data dir is readable by others; its files are 0600 but consider chmod 700", "dir", dir, "mode", info.Mode().Perm().String())
	}
	s.dir = dir
	return nil
}

// Handler is the server's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// DataDir is where the state lives (a temporary directory for a throwaway store).
func (s *Server) DataDir() string { return s.dir }

// Start serves on addr ("" for 127.0.0.1 on a free port) and returns the base URL,
// "http://127.0.0.1:port". It refuses a non-loopback address unless
// Options.AllowRemote. It also starts a sweeper that records session expiries as they
// happen, not only when noticed.
func (s *Server) Start(addr string) (string, error) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.closed {
		return "", errors.New("start: server is closed")
	}
	if s.httpSrv != nil {
		return "", errors.New("start: already serving")
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := s.checkListenAddr(addr); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func(srv *http.Server) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}(s.httpSrv)
	s.stopTick = make(chan struct{})
	go s.sweepEvery(s.sweepInterval, s.stopTick)
	url := "http://" + ln.Addr().String()
	s.log.Info("listening", "url", url, "data", s.dir)
	return url, nil
}

func (s *Server) checkListenAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("start: address %q: %w", addr, err)
	}
	if s.allowAny {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("start: %q is not a loopback address; the demo password is public and the server speaks plain HTTP, so it listens on 127.0.0.1 unless allowed to listen remotely", addr)
}

// Close stops serving (letting requests in flight finish, up to 5 s), closes the
// state file, and removes a throwaway store.
func (s *Server) Close() error {
	s.startMu.Lock()
	if s.closed {
		s.startMu.Unlock()
		return nil
	}
	s.closed = true
	srv, tick := s.httpSrv, s.stopTick
	s.startMu.Unlock()
	var errs []error
	if srv != nil {
		close(tick)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
		cancel()
	}
	if err := s.closeNotifier(); err != nil {
		errs = append(errs, err)
	}
	s.flushSummaries(true)
	if err := s.closeStorage(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) closeStorage() error {
	var errs []error
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.removeDir && s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove throwaway store: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) sweepEvery(d time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.sweepSessions()
		}
	}
}
