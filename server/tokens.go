package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shadowview/shadow/api"
)

// Token claims. An impersonation token is:
//
//	{"iss":"shadow-reference","aud":["shadow-api"],"sub":"<impersonated user>",
//	 "act":{"sub":"<admin>"},"sid":"<session>","scope":"read_only",
//	 "iat":…,"exp":…(≤ 30 min),"jti":"…"}
//
// A user's or staff member's own token has no act or sid, scope "full", and "pwv",
// the password version it was issued under.
type claims struct {
	jwt.RegisteredClaims
	Scope string    `json:"scope"`
	Act   *actClaim `json:"act,omitempty"`
	Sid   string    `json:"sid,omitempty"`
	Pwv   int       `json:"pwv,omitempty"`
}

// actClaim is RFC 8693's actor claim: who is acting on the subject's behalf.
type actClaim struct {
	Sub string `json:"sub"`
}

const (
	tokenIssuer   = "shadow-reference"
	tokenAudience = "shadow-api"
)

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the platform has no randomness: nothing is safe
	}
	return hex.EncodeToString(b)
}

func (s *Server) sign(c claims) (string, error) {
	c.Issuer = tokenIssuer
	c.Audience = jwt.ClaimStrings{tokenAudience}
	c.ID = randomHex(12)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.jwtKey)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

// ownToken issues a full-scope token for the user's own identity.
func (s *Server) ownToken(userID string, pwv int) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.tokenTTL).Truncate(time.Second)
	tok, err := s.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: userID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp)},
		Scope:            api.ScopeFull,
		Pwv:              pwv,
	})
	return tok, exp, err
}

// impersonationToken issues the read-only token of a session; it expires with it.
func (s *Server) impersonationToken(sessionID, userID, actorID string, exp time.Time) (string, error) {
	return s.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: userID, IssuedAt: jwt.NewNumericDate(s.now()), ExpiresAt: jwt.NewNumericDate(exp)},
		Scope:            api.ScopeReadOnly,
		Act:              &actClaim{Sub: actorID},
		Sid:              sessionID,
	})
}

var errTokenExpired = errors.New("token expired")

// parseToken verifies a token's signature, algorithm, issuer, audience and expiry.
// For an expired token whose signature is good it returns the claims with
// errTokenExpired, so the caller can tell an expired session from a forged token.
func (s *Server) parseToken(raw string) (*claims, error) {
	c := &claims{}
	_, err := jwt.ParseWithClaims(raw, c, func(*jwt.Token) (any, error) { return s.jwtKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
	)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// The library checks the signature before the claims, so expired means signed
		// by us.
		return c, errTokenExpired
	}
	return nil, fmt.Errorf("token: %w", err)
}
