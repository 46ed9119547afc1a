package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/msgguard/msgguard/agent/config"
)

// Webhook POSTs events as JSON batches to an HTTPS collector:
//
//	{"schema_version":1,"events":[{...event...}, ...]}
//
// Each event's "id" is its idempotency key; a single-event request also
// carries it in an Idempotency-Key header (draft-ietf-httpapi-idempotency-
// key-header: a quoted string). Retries resend the same ids, so a collector
// that de-duplicates by id sees every event exactly once. The bearer token
// is read from a root-only file at every attempt (so it can be rotated
// without a restart) and never appears in errors or logs.
type Webhook struct {
	name      string
	url       string
	display   string // URL without query, for messages
	tokenFile string
	client    *http.Client

	mu    sync.Mutex
	batch int // shrinks after 413 Payload Too Large
}

// NewWebhook builds a webhook sink from its configuration. A token file
// with unsafe permissions is reported here already, but the sink is still
// created: it keeps failing (and keeping events) until the file is fixed.
func NewWebhook(c config.Sink, o BuildOptions) (*Webhook, error) {
	u, err := url.Parse(c.URL)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Host == "" {
		return nil, errors.New("url must be https://host/path without credentials")
	}
	tc, err := tlsConfig(c, u.Hostname())
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: timeout, Resolver: o.Resolver}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	w := &Webhook{name: c.Name, url: c.URL, display: u.Scheme + "://" + u.Host + u.Path, tokenFile: c.TokenFile,
		client: &http.Client{Transport: tr, Timeout: timeout,
			// A collector that redirects would make us resend the token
			// elsewhere; refuse.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		batch: c.BatchSize}
	if w.batch <= 0 {
		w.batch = 100
	}
	if _, err := readToken(c.TokenFile); err != nil {
		o.Log.Error().Str("sink", c.Name).Str("error", err.Error()).Msg("webhook_token_unusable")
	}
	return w, nil
}

// Name implements EventSink.
func (w *Webhook) Name() string { return w.name }

// BatchSize implements EventSink.
func (w *Webhook) BatchSize() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch
}

// Deliver POSTs the batch; the collector accepts all of it (2xx) or none.
func (w *Webhook) Deliver(ctx context.Context, msgs []Message) (int, error) {
	token, err := readToken(w.tokenFile)
	if err != nil {
		return 0, fmt.Errorf("webhook token: %w", err)
	}
	body := make([]byte, 0, 64+len(msgs)*600)
	body = append(body, `{"schema_version":1,"events":[`...)
	for i, m := range msgs {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, m.JSON...)
	}
	body = append(body, "]}"...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("POST %s: building request: %w", w.display, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "msgguard-agent")
	req.Header.Set("Authorization", "Bearer "+token)
	if len(msgs) == 1 {
		req.Header.Set("Idempotency-Key", strconv.Quote(msgs[0].Event.ID))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", w.display, unwrapURLError(err))
	}
	// Drain a little so the connection can be reused; never log the body.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return len(msgs), nil
	case resp.StatusCode == http.StatusRequestEntityTooLarge && len(msgs) > 1:
		w.mu.Lock()
		w.batch = max(len(msgs)/2, 1)
		w.mu.Unlock()
	}
	err = fmt.Errorf("POST %s: collector answered %s", w.display, resp.Status)
	if ra := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
		return 0, &retryAfterError{err: err, after: ra}
	}
	return 0, err
}

// unwrapURLError drops url.Error's copy of the URL (which could carry a
// query string) and keeps the cause.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Close implements EventSink.
func (w *Webhook) Close() error {
	w.client.CloseIdleConnections()
	return nil
}
