package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Session notifications: a server may tell a company, by webhook, when one of its users'
// sessions starts and ends. The envelope and the signature follow the Standard Webhooks
// specification (webhook-id, webhook-timestamp and webhook-signature headers; an
// HMAC-SHA256 over "id.timestamp.body" keyed with the secret's bytes, base64, prefixed
// "v1,"), so a receiver can check them with any library for it. Sender and receiver both
// use the functions below, so there is one definition of the signed bytes.

// Webhook event types.
const (
	WebhookSessionStarted = "impersonation.session.started"
	WebhookSessionEnded   = "impersonation.session.ended" // by DELETE, expiry or the server; Session.State says which
)

// Webhook headers (Standard Webhooks).
const (
	WebhookIDHeader        = "webhook-id"
	WebhookTimestampHeader = "webhook-timestamp"
	WebhookSignatureHeader = "webhook-signature"
)

// WebhookSecretPrefix starts every webhook secret: "whsec_" then the key, base64.
const WebhookSecretPrefix = "whsec_"

// WebhookEvent is the JSON body of a notification.
type WebhookEvent struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what a session notification carries.
type WebhookData struct {
	CompanyID string  `json:"company_id"` // the shadowed user's company, the receiver
	Session   Session `json:"session"`
}

// ParseWebhookSecret decodes "whsec_<base64>" into the HMAC key. The key must be 24 to
// 64 bytes.
func ParseWebhookSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), WebhookSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("webhook secret: want %s followed by base64", WebhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: not base64: %w", err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("webhook secret: %d bytes, want 24 to 64", len(key))
	}
	return key, nil
}

// SignWebhook is the value of the webhook-signature header for one delivery.
func SignWebhook(key []byte, id string, timestamp time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(webhookMAC(key, id, timestamp.Unix(), body))
}

func webhookMAC(key []byte, id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(unix, 10) + "."))
	m.Write(body)
	return m.Sum(nil)
}

// ErrWebhookSignature is returned by VerifyWebhook for a delivery whose signature does
// not verify.
var ErrWebhookSignature = errors.New("webhook signature does not verify")

// VerifyWebhook checks a delivery: its headers, a timestamp within tolerance of now (so
// a captured delivery cannot be replayed later), and one of its v1 signatures.
func VerifyWebhook(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get(WebhookIDHeader), h.Get(WebhookTimestampHeader), h.Get(WebhookSignatureHeader)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("webhook: want the %s, %s and %s headers", WebhookIDHeader, WebhookTimestampHeader, WebhookSignatureHeader)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: %s %q is not unix seconds", WebhookTimestampHeader, ts)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || -d > tolerance {
		return fmt.Errorf("webhook: timestamp %s is %s away from now, more than %s", time.Unix(unix, 0).UTC().Format(time.RFC3339), d.Round(time.Second), tolerance)
	}
	want := webhookMAC(key, id, unix, body)
	for _, sig := range strings.Fields(sigs) {
		v, raw, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(raw)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("webhook %s: %w", id, ErrWebhookSignature)
}
