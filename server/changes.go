package server

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/store"
)

// The organisation is seeded from code at every start; what users change through the
// write routes is stored as documents and applied on top, so a data dir survives
// restarts. A write persists its document first and changes memory second, both
// while holding writeMu, so memory never shows what the disk does not hold.

const (
	docUser      = "user"
	docDashboard = "dashboard"
	docShare     = "share"
)

// userDoc is a user's changed state. PasswordHash is a bcrypt hash, never the
// password.
type userDoc struct {
	Name            string       `json:"name"`
	Phone           string       `json:"phone"`
	Settings        api.Settings `json:"settings"`
	PasswordHash    []byte       `json:"password_hash,omitempty"`
	PasswordVersion int          `json:"password_version"`
}

func docOfUser(u *org.User) userDoc {
	return userDoc{Name: u.Name, Phone: u.Phone, Settings: u.Settings, PasswordHash: u.PasswordHash, PasswordVersion: u.PasswordVersion}
}

type dashboardDoc struct {
	ID          string    `json:"id"`
	CompanyID   string    `json:"company_id"`
	OwnerID     string    `json:"owner_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Template    string    `json:"template,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
	Deleted     bool      `json:"deleted,omitempty"`
}

func docOfDashboard(d *org.Dashboard) dashboardDoc {
	return dashboardDoc{ID: d.ID, CompanyID: d.CompanyID, OwnerID: d.OwnerID, Title: d.Title,
		Description: d.Description, Template: d.Template, UpdatedAt: d.UpdatedAt}
}

// shareDoc is a view grant on a dashboard to a user or a team.
type shareDoc struct {
	ID         string `json:"id"`
	UserID     string `json:"user_id,omitempty"`
	TeamID     string `json:"team_id,omitempty"`
	ResourceID string `json:"resource_id"`
	Label      string `json:"label"`
}

func (d shareDoc) rule() *org.Rule {
	return &org.Rule{ID: d.ID, Effect: org.Allow, UserID: d.UserID, TeamID: d.TeamID,
		Action: org.ActionView, Target: org.One(d.ResourceID), Label: d.Label}
}

// loadChanges applies stored documents to the freshly seeded org. Documents naming
// users, companies or dashboards the current seed lacks are skipped (and logged):
// the data dir may have been used with another seed.
func (s *Server) loadChanges() error {
	o := s.org
	err := s.store.Docs(docUser, func(id string, raw []byte) error {
		var d userDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("user %s: %w", id, err)
		}
		cur := o.User(id)
		if cur == nil {
			s.log.Warn("stored change names a user this seed lacks; skipped", "user", id)
			return nil
		}
		next := *cur
		next.Name, next.Phone, next.Settings, next.PasswordVersion = d.Name, d.Phone, d.Settings, d.PasswordVersion
		if d.PasswordHash != nil {
			next.PasswordHash = d.PasswordHash
		}
		return o.SetUser(&next)
	})
	if err != nil {
		return err
	}
	err = s.store.Docs(docDashboard, func(id string, raw []byte) error {
		var d dashboardDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("dashboard %s: %w", id, err)
		}
		if d.Deleted {
			o.DeleteDashboard(d.ID)
			return nil
		}
		if o.Company(d.CompanyID) == nil || o.User(d.OwnerID) == nil {
			s.log.Warn("stored dashboard names a company or owner this seed lacks; skipped", "dashboard", id)
			return nil
		}
		return o.SetDashboard(&org.Dashboard{ID: d.ID, CompanyID: d.CompanyID, OwnerID: d.OwnerID, Title: d.Title,
			Description: d.Description, Template: d.Template, UpdatedAt: d.UpdatedAt})
	})
	if err != nil {
		return err
	}
	return s.store.Docs(docShare, func(id string, raw []byte) error {
		var d shareDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("share %s: %w", id, err)
		}
		if o.Resource(d.ResourceID) == nil || (d.UserID != "" && o.User(d.UserID) == nil) || (d.TeamID != "" && o.Team(d.TeamID) == nil) {
			return nil // its dashboard was deleted, or the seed changed
		}
		return o.AddRule(d.rule())
	})
}

// saveUser persists a changed user, with audit events, then applies it. The caller
// holds writeMu.
func (s *Server) saveUser(u *org.User, events ...store.Event) error {
	if err := s.store.PutDoc(docUser, u.ID, docOfUser(u), events...); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.data.changed() // after the change, before readers see it
	return s.org.SetUser(u)
}

func (s *Server) saveDashboard(d *org.Dashboard) error {
	if err := s.store.PutDoc(docDashboard, d.ID, docOfDashboard(d)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.data.changed() // after the change, before readers see it
	return s.org.SetDashboard(d)
}

func (s *Server) deleteDashboard(d *org.Dashboard) error {
	doc := docOfDashboard(d)
	doc.Deleted = true
	if err := s.store.PutDoc(docDashboard, d.ID, doc); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.data.changed() // after the change, before readers see it
	s.org.DeleteDashboard(d.ID)
	return nil
}

func (s *Server) saveShare(d shareDoc) error {
	if err := s.store.PutDoc(docShare, d.ID, d); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.data.changed() // after the change, before readers see it
	return s.org.AddRule(d.rule())
}
