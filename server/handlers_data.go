package server

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/policy"
	"github.com/shadowview/shadow/server/views"
)

// maxQueryLength bounds ?q= on the directory.
const maxQueryLength = 200

// users is GET /users?q=&cursor=&limit=: the directory as the caller may see it
// (staff: the staff and the companies of their listed support scope, every company
// for vendor-wide staff; a customer's admin: their company), each entry with whether
// the caller may impersonate that user and, if not, the code and words a start
// request would be refused with. It never carries phones (views.DirectoryUser).
func (s *Server) users(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	q := r.URL.Query().Get("q")
	if utf8.RuneCountInString(q) > maxQueryLength || !utf8.ValidString(q) {
		return errorf(api.CodeBadRequest, "q may have at most %d characters of valid UTF-8", maxQueryLength).field("q")
	}
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	dir := s.org.CompanyDirectory(id.user.CompanyID)
	if id.user.Staff() {
		dir = s.org.StaffDirectory(id.user)
	}
	page, serr := dir.Search(q, r.URL.Query().Get("cursor"), limit)
	if errors.Is(serr, org.ErrBadCursor) {
		return errorf(api.CodeBadRequest, "cursor is not one this server issued").field("cursor")
	}
	pol := policy.For(s.org, id.user, nil)
	out := api.UsersPage{Users: make([]api.User, len(page.Users)), NextCursor: page.Next, Total: page.Total}
	for i, u := range page.Users {
		au := views.DirectoryUser(s.org, u)
		d := pol.Target(u)
		au.Impersonable, au.NotImpersonableCode, au.NotImpersonableReason = d.Allowed(), d.Code, d.Reason
		out.Users[i] = au
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// viewer compiles the caller's permissions. The caller holds s.mu (read).
func (s *Server) viewer(id *identity) views.Viewer {
	return views.Viewer{Subject: authz.Compile(s.org, id.user), Redact: id.impersonating()}
}

func (s *Server) dashboards(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	s.mu.RLock()
	out := views.List(s.org, s.viewer(id))
	s.mu.RUnlock()
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// visibleDashboard finds a dashboard the viewer may read; others are 404, so their
// existence does not leak. The caller holds s.mu (read).
func (s *Server) visibleDashboard(v views.Viewer, idValue string) (*org.Dashboard, *apiError) {
	d := s.org.Dashboard(idValue)
	if d == nil || !views.CanView(v, d) {
		return nil, errorf(api.CodeNotFound, "no dashboard %q", truncate(idValue, 100))
	}
	return d, nil
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	s.mu.RLock()
	v := s.viewer(id)
	d, err := s.visibleDashboard(v, r.PathValue("id"))
	if err != nil {
		s.mu.RUnlock()
		return err
	}
	out := views.Render(s.org, v, d)
	s.mu.RUnlock()
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) renderDashboard(w http.ResponseWriter, r *http.Request, id *identity, dashboardID string, status int) {
	s.mu.RLock()
	v := s.viewer(id)
	out := views.Render(s.org, v, s.org.Dashboard(dashboardID))
	s.mu.RUnlock()
	if status == http.StatusCreated {
		w.Header().Set("Location", api.Prefix+"/dashboards/"+dashboardID)
	}
	writeJSON(w, r, status, out)
}

func (s *Server) createDashboard(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	var req api.DashboardCreate
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	title, desc := strings.TrimSpace(req.Title), strings.TrimSpace(req.Description)
	if err := checkText("title", title, 1, 120); err != nil {
		return err
	}
	if err := checkText("description", desc, 0, 500); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	allowed, _ := authz.Compile(s.org, id.user).AllowsType(org.ActionCreate, org.TypeDashboard)
	s.mu.RUnlock()
	if id.user.CompanyID == "" || !allowed {
		return errorf(api.CodeForbidden, "you may not create dashboards")
	}
	d := &org.Dashboard{ID: "d-" + randomHex(8), CompanyID: id.user.CompanyID, OwnerID: id.user.ID,
		Title: title, Description: desc, UpdatedAt: s.now().UTC()}
	if err := s.saveDashboard(d); err != nil {
		return s.unsaved("save dashboard", err)
	}
	s.renderDashboard(w, r, id, d.ID, http.StatusCreated)
	return nil
}

// dashboardFor finds a dashboard the caller may act on: 404 if they cannot see it,
// 403 if they can see it but not do action. The caller holds writeMu.
func (s *Server) dashboardFor(id *identity, dashboardID, action string) (*org.Dashboard, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.viewer(id)
	d, err := s.visibleDashboard(v, dashboardID)
	if err != nil {
		return nil, err
	}
	if !views.CanDo(v, d, action) {
		return nil, errorf(api.CodeForbidden, "you may not %s this dashboard", action)
	}
	return d, nil
}

func (s *Server) updateDashboard(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	var req api.DashboardUpdate
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, err := s.dashboardFor(id, r.PathValue("id"), org.ActionEdit)
	if err != nil {
		return err
	}
	next := *cur
	if req.Title != nil {
		next.Title = strings.TrimSpace(*req.Title)
		if err := checkText("title", next.Title, 1, 120); err != nil {
			return err
		}
	}
	if req.Description != nil {
		next.Description = strings.TrimSpace(*req.Description)
		if err := checkText("description", next.Description, 0, 500); err != nil {
			return err
		}
	}
	next.UpdatedAt = s.now().UTC()
	if err := s.saveDashboard(&next); err != nil {
		return s.unsaved("save dashboard", err)
	}
	s.renderDashboard(w, r, id, next.ID, http.StatusOK)
	return nil
}

func (s *Server) deleteDashboardHandler(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	d, err := s.dashboardFor(id, r.PathValue("id"), org.ActionDelete)
	if err != nil {
		return err
	}
	if err := s.deleteDashboard(d); err != nil {
		return s.unsaved("delete dashboard", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// shareDashboard is POST /dashboards/{id}/shares: grant view to a user or team of the
// same company. Sharing again with the same user or team changes nothing (200).
func (s *Server) shareDashboard(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	var req api.DashboardShare
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if (req.UserID == "") == (req.TeamID == "") {
		return errorf(api.CodeValidation, "give exactly one of user_id and team_id").field("user_id")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	d, err := s.dashboardFor(id, r.PathValue("id"), org.ActionShare)
	if err != nil {
		return err
	}
	s.mu.RLock()
	if req.UserID != "" {
		if u := s.org.User(req.UserID); u == nil || u.CompanyID != d.CompanyID {
			s.mu.RUnlock()
			return errorf(api.CodeUserNotFound, "no user %q in this dashboard's company", truncate(req.UserID, 100)).field("user_id")
		}
	} else if t := s.org.Team(req.TeamID); t == nil || t.CompanyID != d.CompanyID {
		s.mu.RUnlock()
		return errorf(api.CodeNotFound, "no team %q in this dashboard's company", truncate(req.TeamID, 100)).field("team_id")
	}
	exists := false
	for _, sh := range views.Shares(s.org, d) {
		exists = exists || sh.ID == req.UserID || sh.ID == req.TeamID
	}
	s.mu.RUnlock()
	if exists {
		s.renderDashboard(w, r, id, d.ID, http.StatusOK)
		return nil
	}
	doc := shareDoc{ID: "share-" + randomHex(8), UserID: req.UserID, TeamID: req.TeamID,
		ResourceID: d.ResourceID(), Label: "shared by " + id.user.Name}
	if err := s.saveShare(doc); err != nil {
		return s.unsaved("save share", err)
	}
	s.renderDashboard(w, r, id, d.ID, http.StatusCreated)
	return nil
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	q := r.URL.Query()
	resID, action := q.Get("resource"), q.Get("action")
	if resID == "" {
		return errorf(api.CodeBadRequest, "resource is required, e.g. ?resource=vehicle:acme-n1&action=edit").field("resource")
	}
	known := false
	for _, a := range org.MatrixActions {
		known = known || a == action
	}
	if !known {
		return errorf(api.CodeBadRequest, "action must be one of %s", strings.Join(org.MatrixActions, ", ")).field("action")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	res := s.org.Resource(resID)
	if res == nil || res.CompanyID != id.user.CompanyID {
		return errorf(api.CodeNotFound, "no resource %q", truncate(resID, 100))
	}
	writeJSON(w, r, http.StatusOK, authz.Compile(s.org, id.user).Explain(res, action))
	return nil
}
