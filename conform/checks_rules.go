package conform

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/shadowview/shadow/api"
)

// maxDashboards bounds how many dashboards the redaction check opens.
const maxDashboards = 12

func (r *run) redactionMarkers() outcome {
	var problems []string
	var me api.Me
	if err := r.get(apiPath("/me"), r.main.Token).decode(http.StatusOK, &me); err != nil {
		return fail("%v", err)
	}
	if me.User.Phone != "" || !slices.Contains(me.User.Redacted, "phone") {
		problems = append(problems, fmt.Sprintf("GET /me: phone %q and redacted %v, want \"\" and [\"phone\"]", me.User.Phone, me.User.Redacted))
	}
	var list api.DashboardList
	if err := r.get(apiPath("/dashboards"), r.main.Token).decode(http.StatusOK, &list); err != nil {
		return fail("%v", err)
	}
	sensitive, withheld := 0, 0
	for i, d := range list.Dashboards {
		if i == maxDashboards {
			break
		}
		if r.dash == "" {
			r.dash = d.ID
		}
		var dash api.Dashboard
		if err := r.get(apiPath("/dashboards/"+d.ID), r.main.Token).decode(http.StatusOK, &dash); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, w := range dash.Widgets {
			where := fmt.Sprintf("dashboard %s widget %s", d.ID, w.ID)
			switch {
			case w.Table != nil:
				for c, col := range w.Table.Columns {
					if !col.Sensitive {
						continue
					}
					sensitive++
					for _, row := range w.Table.Rows {
						if c >= len(row.Cells) {
							continue
						}
						cell := row.Cells[c]
						if cell.Value != "" || !cell.Redacted {
							problems = append(problems, fmt.Sprintf("%s: sensitive column %s sent %q (redacted %v), want \"\" and redacted", where, col.Key, cell.Value, cell.Redacted))
							break
						}
						withheld++
						if !w.Redacted {
							problems = append(problems, where+": withholds cells but is not marked redacted")
							break
						}
					}
				}
			case w.KPI != nil && w.KPI.Redacted:
				withheld++
				if w.KPI.Value != 0 || w.KPI.Previous != nil || !w.Redacted {
					problems = append(problems, fmt.Sprintf("%s: a withheld KPI sent value %v, previous %v, widget redacted %v", where, w.KPI.Value, w.KPI.Previous, w.Redacted))
				}
			case w.Series != nil && w.Redacted:
				withheld++
				if len(w.Series.Lines) > 0 {
					problems = append(problems, fmt.Sprintf("%s: a withheld series sent %d lines, want none", where, len(w.Series.Lines)))
				}
			case w.Bar != nil && w.Redacted:
				withheld++
				if len(w.Bar.Bars) > 0 {
					problems = append(problems, fmt.Sprintf("%s: a withheld bar chart sent %d bars, want none", where, len(w.Bar.Bars)))
				}
			}
		}
	}
	return failed(problems, fmt.Sprintf("phone withheld; %d dashboards, %d sensitive columns, %d values withheld and marked", min(len(list.Dashboards), maxDashboards), sensitive, withheld))
}

func (r *run) redactionOwnView() outcome {
	if r.user == nil || r.user.me.User.ID != r.target.ID {
		return skip("needs the impersonated user's own token (SHADOW_CONFORM_USER_*)")
	}
	var me api.Me
	if err := r.get(apiPath("/me"), r.user.token).decode(http.StatusOK, &me); err != nil {
		return fail("%v", err)
	}
	var problems []string
	if slices.Contains(me.User.Redacted, "phone") {
		problems = append(problems, "the user's own GET /me marks the phone withheld")
	}
	var list api.DashboardList
	if err := r.get(apiPath("/dashboards"), r.user.token).decode(http.StatusOK, &list); err != nil {
		return fail("%v", err)
	}
	shown := 0
	for i, d := range list.Dashboards {
		if i == maxDashboards {
			break
		}
		var dash api.Dashboard
		if err := r.get(apiPath("/dashboards/"+d.ID), r.user.token).decode(http.StatusOK, &dash); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, w := range dash.Widgets {
			if w.Redacted {
				problems = append(problems, fmt.Sprintf("dashboard %s widget %s is withheld from the user's own token", d.ID, w.ID))
				continue
			}
			if w.Table == nil {
				continue
			}
			for c, col := range w.Table.Columns {
				for _, row := range w.Table.Rows {
					if col.Sensitive && c < len(row.Cells) && !row.Cells[c].Redacted {
						shown++
					}
				}
			}
		}
	}
	return failed(problems, fmt.Sprintf("nothing withheld from the user's own token; %d sensitive values shown", shown))
}

func (r *run) etag() outcome {
	path := apiPath("/dashboards")
	first := r.get(path, r.main.Token)
	if err := first.decode(http.StatusOK, nil); err != nil {
		return fail("%v", err)
	}
	tag := first.header.Get("ETag")
	var problems []string
	cc := strings.ToLower(first.header.Get("Cache-Control"))
	switch {
	case tag == "":
		return fail("GET %s has no ETag", path)
	case !strings.Contains(cc, "private") || !strings.Contains(cc, "no-cache"):
		problems = append(problems, fmt.Sprintf("Cache-Control %q, want private, no-cache", cc))
	}
	if !strings.Contains(strings.ToLower(strings.Join(first.header.Values("Vary"), ",")), "authorization") {
		problems = append(problems, "no Vary: Authorization")
	}
	for _, offer := range []string{tag, "W/" + tag, `"conform-other", ` + tag, "*"} {
		again := r.get(path, r.main.Token, "If-None-Match", offer)
		if again.status != http.StatusNotModified || len(again.body) != 0 {
			problems = append(problems, fmt.Sprintf("If-None-Match %s answered %s with %d bytes, want 304 and no body", offer, again.what(), len(again.body)))
		}
	}
	if miss := r.get(path, r.main.Token, "If-None-Match", `"conform-stale"`); miss.status != http.StatusOK {
		problems = append(problems, "a tag that does not match answered "+miss.what()+", want 200")
	}
	return failed(problems, "ETag "+tag+"; 304 for it, its weak form, a list holding it and *")
}

func (r *run) etagScoped() outcome {
	if r.user == nil || r.user.me.User.ID != r.target.ID {
		return skip("needs the impersonated user's own token (SHADOW_CONFORM_USER_*)")
	}
	path := apiPath("/permissions")
	own, imp := r.get(path, r.user.token), r.get(path, r.main.Token)
	if err := own.decode(http.StatusOK, nil); err != nil {
		return fail("%v", err)
	}
	if err := imp.decode(http.StatusOK, nil); err != nil {
		return fail("%v", err)
	}
	if own.header.Get("ETag") == imp.header.Get("ETag") {
		return fail("GET %s: the user's own view and the session's share ETag %s", path, own.header.Get("ETag"))
	}
	if again := r.get(path, r.main.Token, "If-None-Match", own.header.Get("ETag")); again.status == http.StatusNotModified {
		return fail("the user's own ETag revalidates the session's view (304)")
	}
	return pass("GET %s: two tags, and neither revalidates the other's", path)
}

// refuse starts a session that must be refused with code; a start that succeeds is
// ended at once.
func (r *run) refuse(token string, req api.StartSessionRequest, code api.Code) error {
	resp, s, err := r.start(token, req)
	if s != nil {
		r.end(s.Session.ID)
		return fmt.Errorf("a session was started (%s) where the contract says %s; the kit ended it", s.Session.ID, code)
	}
	if err != nil {
		return err
	}
	return resp.refusal(code)
}

func (r *run) ruleSelf() outcome {
	if err := r.refuse(r.admin.token, api.StartSessionRequest{UserID: r.admin.me.User.ID, Reason: r.reason()}, api.CodeSelfImpersonation); err != nil {
		return fail("%v", err)
	}
	return pass("refused")
}

func (r *run) ruleReasonRequired() outcome {
	if err := r.refuse(r.admin.token, api.StartSessionRequest{UserID: r.target.ID}, api.CodeReasonRequired); err != nil {
		return fail("%v", err)
	}
	return pass("refused")
}

func (r *run) ruleReasonTooLong() outcome {
	long := strings.Repeat("x", api.MaxReasonLength+1)
	resp, s, err := r.start(r.admin.token, api.StartSessionRequest{UserID: r.target.ID, Reason: long})
	if s != nil {
		r.end(s.Session.ID)
		return fail("a %d-character reason started session %s; the kit ended it", len(long), s.Session.ID)
	}
	if err == nil {
		err = resp.refusal(api.CodeValidation)
	}
	if err != nil {
		return fail("%v", err)
	}
	if b, _ := resp.envelope(); b.Field != "reason" {
		return fail("field %q, want \"reason\"", b.Field)
	}
	return pass("refused, field reason")
}

// ruleUnknownUser: an id no user has is answered as a user outside the caller's scope,
// so a refusal never tells whether someone exists beyond it (API.md, rule 4).
func (r *run) ruleUnknownUser() outcome {
	if err := r.refuse(r.admin.token, api.StartSessionRequest{UserID: "conform-no-such-user-" + r.id, Reason: r.reason()}, api.CodeTargetOutOfScope); err != nil {
		return fail("%v", err)
	}
	return pass("refused")
}

// ruleDirectoryAgrees takes, for each refusal code the directory gives, up to two users
// it flags with it, and checks a start on each is refused with that very code.
func (r *run) ruleDirectoryAgrees() outcome {
	byCode := map[api.Code][]api.User{}
	var unexplained string
	err := r.directory(func(u api.User) bool {
		switch {
		case u.Impersonable:
		case u.NotImpersonableCode == "":
			unexplained = u.ID
			return false
		case len(byCode[u.NotImpersonableCode]) < 2:
			byCode[u.NotImpersonableCode] = append(byCode[u.NotImpersonableCode], u)
		}
		return true
	})
	switch {
	case err != nil:
		return fail("%v", err)
	case unexplained != "":
		return fail("user %s is not impersonable but the directory gives no not_impersonable_code", unexplained)
	}
	if len(byCode) == 0 {
		return skip("the directory flags no user %s may not impersonate", r.admin.me.User.Email)
	}
	var problems, codes []string
	for code, users := range byCode {
		codes = append(codes, string(code))
		for _, u := range users {
			if err := r.refuse(r.admin.token, api.StartSessionRequest{UserID: u.ID, Reason: r.reason()}, code); err != nil {
				problems = append(problems, fmt.Sprintf("%s (flagged %s): %v", u.ID, code, err))
			}
		}
	}
	sort.Strings(codes)
	return failed(problems, "refused as flagged: "+strings.Join(codes, ", "))
}

func (r *run) ruleOptedOut() outcome {
	if r.cfg.OptedOutUser == "" {
		return skip("needs the id of a user whose company switched impersonation off (SHADOW_CONFORM_OPTED_OUT_USER)")
	}
	if err := r.refuse(r.admin.token, api.StartSessionRequest{UserID: r.cfg.OptedOutUser, Reason: r.reason()}, api.CodeImpersonationDisabled); err != nil {
		return fail("%v", err)
	}
	return pass("refused")
}

func (r *run) ruleOutOfScope() outcome {
	if r.other == nil {
		return skip("needs another company's admin (SHADOW_CONFORM_OTHER_ADMIN_*)")
	}
	if !r.other.me.CanImpersonate {
		return skip("the other company's identity %s may not impersonate at all", r.other.me.User.Email)
	}
	var problems []string
	if err := r.refuse(r.other.token, api.StartSessionRequest{UserID: r.target.ID, Reason: r.reason()}, api.CodeTargetOutOfScope); err != nil {
		problems = append(problems, "start: "+err.Error())
	}
	path := apiPath("/impersonation/sessions/" + r.main.Session.ID)
	if err := r.get(path, r.other.token).refusal(api.CodeNotFound); err != nil {
		problems = append(problems, "reading the session: "+err.Error())
	}
	if err := r.send("DELETE", path, r.other.token, nil).refusal(api.CodeNotFound); err != nil {
		problems = append(problems, "ending the session: "+err.Error())
	}
	if err := r.get(apiPath("/me"), r.main.Token).decode(http.StatusOK, nil); err != nil {
		problems = append(problems, "after the other admin's DELETE the session's token no longer works: "+err.Error())
	}
	return failed(problems, "start refused; the session is 404 to them, to read and to end")
}

func (r *run) ruleNoPermission() outcome {
	for _, id := range []*identity{r.user, r.userAdmin, r.other} {
		if id == nil || id.me.CanImpersonate {
			continue
		}
		if err := r.refuse(id.token, api.StartSessionRequest{UserID: r.admin.me.User.ID, Reason: r.reason()}, api.CodeImpersonationForbidden); err != nil {
			return fail("%s starting a session: %v", id.me.User.Email, err)
		}
		if err := r.get(apiPath("/users"), id.token).refusal(api.CodeImpersonationForbidden); err != nil {
			return fail("%s reading the directory: %v", id.me.User.Email, err)
		}
		return pass("%s refused a start and the directory", id.me.User.Email)
	}
	return skip("needs an identity that may not impersonate (the SHADOW_CONFORM_USER_* user usually is)")
}
