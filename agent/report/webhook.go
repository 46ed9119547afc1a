package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// Every request carries an Idempotency-Key header (draft-ietf-httpapi-
// idempotency-key-header: a quoted string) derived from the event ids it
// carries: a single event's id, or for a batch "batch-" and a SHA-256 over
// its ids. A failed request is retried with exactly the same events (the
// sink remembers the ids and trims a longer batch offered later to them),
// so the retry carries the same key even when new events were queued
// meanwhile: a slow collector that stored a request it could not answer in
// time recognises the retry by its key, or by the event ids inside. The bearer token
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
	// retry holds the event ids of the last request that failed in a way
	// the collector may still have stored it (a timeout, a 5xx, a broken
	// connection): the next request resends exactly these.
	retry []string
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
	msgs = w.sameAsRetry(msgs)
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
	req.Header.Set("Idempotency-Key", IdempotencyKey(msgs))
	resp, err := w.client.Do(req)
	if err != nil {
		w.remember(msgs)
		return 0, fmt.Errorf("POST %s: %w", w.display, unwrapURLError(err))
	}
	// Drain a little so the connection can be reused; never log the body.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		w.remember(nil)
		return len(msgs), nil
	case resp.StatusCode == http.StatusRequestEntityTooLarge && len(msgs) > 1:
		// Refused unread: a smaller batch (another key) is safe.
		w.mu.Lock()
		w.batch = max(len(msgs)/2, 1)
		w.retry = nil
		w.mu.Unlock()
	default:
		w.remember(msgs)
	}
	err = fmt.Errorf("POST %s: collector answered %s", w.display, resp.Status)
	if ra := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
		return 0, &retryAfterError{err: err, after: ra}
	}
	return 0, err
}

// IdempotencyKey is the Idempotency-Key of a request carrying msgs: the
// event's id for one event, else "batch-" and the first 128 bits of
// SHA-256 over the ids, each followed by a newline, in hex; quoted as the
// header's draft requires (a structured-field string).
func IdempotencyKey(msgs []Message) string {
	if len(msgs) == 1 {
		return strconv.Quote(msgs[0].Event.ID)
	}
	h := sha256.New()
	for _, m := range msgs {
		h.Write([]byte(m.Event.ID))
		h.Write([]byte{'\n'})
	}
	return strconv.Quote("batch-" + hex.EncodeToString(h.Sum(nil)[:16]))
}

// sameAsRetry trims msgs to the events of the last failed request when
// msgs starts with them (the outbox offers the unacknowledged events
// first, then whatever was queued since).
func (w *Webhook) sameAsRetry(msgs []Message) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.retry) == 0 || len(msgs) < len(w.retry) {
		w.retry = nil
		return msgs
	}
	for i, id := range w.retry {
		if msgs[i].Event.ID != id {
			w.retry = nil
			return msgs
		}
	}
	return msgs[:len(w.retry)]
}

// remember records the ids of a failed request (nil: none pending).
func (w *Webhook) remember(msgs []Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.retry = w.retry[:0]
	for _, m := range msgs {
		w.retry = append(w.retry, m.Event.ID)
	}
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
