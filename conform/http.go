package conform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
)

// maxReply caps what the kit reads of one reply: a server that sends more is told so, and
// the kit does not run out of memory on it.
const maxReply = 8 << 20

// prober sends the kit's requests with plain net/http: shadow's own client refuses, by
// design, the very requests the kit must send (unsafe methods with an impersonation
// token). Redirects are not followed, so one is seen for what it is.
type prober struct {
	base   string
	client *http.Client

	mu       sync.Mutex
	sessions map[string]string // impersonation token -> its session id
	sent     []sent            // every request made with an impersonation token
	waits    int               // Retry-After waits honoured
}

// sent is one request made with an impersonation token, for the audit check.
type sent struct {
	session, method, path string
	status                int
}

// reply is an answer with its body read.
type reply struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	err          error // no answer at all, or one that could not be read
}

func newProber(base string, client *http.Client) *prober {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &prober{base: strings.TrimRight(base, "/"), client: &c, sessions: map[string]string{}}
}

// impersonation marks token as the token of session, so its requests are remembered.
func (p *prober) impersonation(token, session string) {
	p.mu.Lock()
	p.sessions[token] = session
	p.mu.Unlock()
}

// call is one request: body nil (none), []byte (sent as is, as JSON) or a value
// (encoded); headers are name, value pairs.
type call struct {
	method, path, token string
	body                any
	contentType         string // default application/json when there is a body
	headers             []string
}

// do sends c. A 429, or a 503 to a request that may be repeated, with a Retry-After of
// at most a minute is waited out and sent again, twice at most: a server that asks the
// kit to slow down is obeyed, not failed.
func (p *prober) do(ctx context.Context, c call) reply {
	var raw []byte
	switch b := c.body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return reply{method: c.method, path: c.path, err: err}
		}
	}
	for attempt := 0; ; attempt++ {
		r := p.once(ctx, c, raw)
		wait := retryAfter(r)
		repeatable := r.status == http.StatusTooManyRequests ||
			(r.status == http.StatusServiceUnavailable && (api.SafeMethod(c.method) || c.method == http.MethodPut))
		if r.err != nil || !repeatable || wait <= 0 || wait > time.Minute || attempt == 2 {
			return r
		}
		p.mu.Lock()
		p.waits++
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return r
		case <-time.After(wait):
		}
	}
}

func (p *prober) once(ctx context.Context, c call, raw []byte) reply {
	out := reply{method: c.method, path: c.path}
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, p.base+c.path, body)
	if err != nil {
		out.err = err
		return out
	}
	if raw != nil {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "shadow-conform")
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	resp, err := p.client.Do(req)
	if err != nil {
		out.err = err
		return out
	}
	defer resp.Body.Close()
	out.status, out.header = resp.StatusCode, resp.Header
	out.body, err = io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	switch {
	case err != nil:
		out.err = fmt.Errorf("reading the reply: %w", err)
	case len(out.body) > maxReply:
		out.err = fmt.Errorf("the reply is larger than %d MiB", maxReply>>20)
	}
	p.mu.Lock()
	if sid, ok := p.sessions[c.token]; ok && c.token != "" {
		p.sent = append(p.sent, sent{session: sid, method: c.method, path: c.path, status: out.status})
	}
	p.mu.Unlock()
	return out
}

func retryAfter(r reply) time.Duration {
	if r.header == nil {
		return 0
	}
	secs, err := strconv.Atoi(strings.TrimSpace(r.header.Get("Retry-After")))
	if err != nil || secs < 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// sentWith lists the requests made with session's token.
func (p *prober) sentWith(session string) []sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []sent
	for _, s := range p.sent {
		if s.session == session {
			out = append(out, s)
		}
	}
	return out
}

// what says in a few words what came back, for a reason.
func (r reply) what() string {
	if r.err != nil {
		return "nothing usable (" + r.err.Error() + ")"
	}
	if b, ok := r.envelope(); ok {
		return fmt.Sprintf("%d %s", r.status, b.Code)
	}
	return strconv.Itoa(r.status)
}

func (r reply) String() string {
	if r.err != nil {
		return r.method + " " + r.path + ": no usable answer (" + r.err.Error() + ")"
	}
	return r.method + " " + r.path + " answered " + r.what()
}

// envelope decodes the error envelope, if the reply is one.
func (r reply) envelope() (api.ErrorBody, bool) {
	var env api.ErrorResponse
	if r.err != nil || !isJSON(r.header) || json.Unmarshal(r.body, &env) != nil || env.Error.Code == "" {
		return api.ErrorBody{}, false
	}
	return env.Error, true
}

// decode checks the status and decodes a JSON reply into v.
func (r reply) decode(status int, v any) error {
	if r.err != nil {
		return errors.New(r.String())
	}
	if r.status != status {
		return fmt.Errorf("%s, want %d", r, status)
	}
	if v == nil {
		return nil
	}
	if !isJSON(r.header) {
		return fmt.Errorf("%s %s: the reply's Content-Type is %q, not JSON", r.method, r.path, r.header.Get("Content-Type"))
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%s %s: the reply is not the JSON the contract describes: %v", r.method, r.path, err)
	}
	return nil
}

// refusal checks that the reply is the error envelope with code, sent with the code's
// status and a message for a person.
func (r reply) refusal(code api.Code) error {
	b, ok := r.envelope()
	switch {
	case r.err != nil:
		return errors.New(r.String())
	case !ok:
		return fmt.Errorf("%s, want %d %s in the error envelope", r, code.Status(), code)
	case b.Code != code || r.status != code.Status():
		return fmt.Errorf("%s, want %d %s", r, code.Status(), code)
	case strings.TrimSpace(b.Message) == "":
		return fmt.Errorf("%s with no message", r)
	}
	return nil
}

func isJSON(h http.Header) bool {
	if h == nil {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
