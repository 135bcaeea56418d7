package store

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SigningKey is the server's Ed25519 key for journal receipts, kept in a PKCS#8 PEM
// file (mode 0600) so receipts stay verifiable across restarts.
type SigningKey struct {
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
	// ID names the key in receipts: the first 16 hex digits of SHA-256(public key).
	ID string
}

// LoadOrCreateKey reads the key at path, or creates one there if the file does not
// exist. A key file readable by group or others is refused, as ssh does, rather than
// trusted.
func LoadOrCreateKey(path string) (SigningKey, error) {
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createKey(path)
	case err != nil:
		return SigningKey{}, fmt.Errorf("read signing key: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return SigningKey{}, fmt.Errorf("read signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return SigningKey{}, fmt.Errorf("signing key %s has mode %v: it must be readable by its owner only (chmod 600)", path, info.Mode().Perm())
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return SigningKey{}, fmt.Errorf("signing key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return SigningKey{}, fmt.Errorf("signing key %s: %T is not an Ed25519 key", path, k)
	}
	return newSigningKey(priv), nil
}

func createKey(path string) (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return SigningKey{}, fmt.Errorf("create signing key: %w", err)
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return SigningKey{}, fmt.Errorf("write signing key: %w", werr)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // make the new name durable too
		d.Sync()
		d.Close()
	}
	return newSigningKey(priv), nil
}

func newSigningKey(priv ed25519.PrivateKey) SigningKey {
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return SigningKey{Private: priv, Public: pub, ID: hex.EncodeToString(sum[:8])}
}
