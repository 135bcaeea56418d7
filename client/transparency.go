package client

import (
	"context"
	"net/url"

	"github.com/shadowview/shadow/api"
)

// ImpersonationsQuery pages through GET /me/impersonations.
type ImpersonationsQuery struct {
	User   string // a company admin: only this user of the company ("" for all)
	Cursor string // from the previous page's NextCursor
	Limit  int    // 0 is the server's default
}

// MyImpersonations asks who shadowed the signed-in identity (GET /me/impersonations):
// the sessions in which they were impersonated, newest first, each with the admin, their
// organisation, the reason, how long, and what it read. A company admin is told the same
// for every user of the company (Scope api.TransparencyCompany). Always asked live: it is
// never cached, so a session that has just started is never missing from it.
func (c *Client) MyImpersonations(ctx context.Context, q ImpersonationsQuery) (api.ImpersonationsPage, error) {
	query := url.Values{}
	if q.User != "" {
		query.Set("user", q.User)
	}
	pageQuery(query, q.Cursor, q.Limit)
	var out api.ImpersonationsPage
	err := c.own(ctx, request{op: "list who shadowed you", route: api.RouteMyImpersonations, query: query, out: &out})
	return out, err
}
