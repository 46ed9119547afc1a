package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// DialTimeout bounds how long Dial waits for a daemon to answer: long
// enough for a busy agent, short enough that `agent status` falls back to
// the database promptly when none runs.
const DialTimeout = 3 * time.Second

// maxResponse caps a response body; a report is tens of kilobytes.
const maxResponse = 64 << 20

// clientConns is the most connections one Client opens.
const clientConns = 8

// ErrNotRunning means no agent answers on the endpoint.
var ErrNotRunning = errors.New("the msgguard service is not running")

// AccessDeniedError is a 403 from the agent.
type AccessDeniedError struct{ Msg string }

func (e *AccessDeniedError) Error() string { return "access denied: " + e.Msg }

// APIError is any other non-2xx answer.
type APIError struct {
	Code int
	Msg  string
}

func (e *APIError) Error() string { return fmt.Sprintf("agent answered %d: %s", e.Code, e.Msg) }

// Client talks to a running agent.
type Client struct {
	endpoint string
	hc       *http.Client
}

// NewClient returns a client for the socket or pipe at endpoint. It does not
// connect; see Dial.
func NewClient(endpoint string) *Client {
	// Compression stays on: the service answers report endpoints gzipped
	// (compressed once per scan, see serveSnapshot) and the transport
	// inflates them.
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx, endpoint)
		},
		MaxIdleConns:        4,
		IdleConnTimeout:     30 * time.Second,
		MaxIdleConnsPerHost: 4,
		// Within the server's per-account share (Limits.PerUser), so
		// that a busy client queues here instead of being refused.
		MaxConnsPerHost: clientConns,
	}
	return &Client{endpoint: endpoint, hc: &http.Client{Transport: tr}}
}

// Dial connects to the agent at endpoint and checks that it answers,
// within DialTimeout. It returns an error wrapping ErrNotRunning when no
// agent listens.
func Dial(ctx context.Context, endpoint string) (*Client, error) {
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	c := NewClient(endpoint)
	if _, err := c.Health(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Status returns the latest report, with the service state; redacted unless
// the caller is an administrator.
func (c *Client) Status(ctx context.Context) (*status.Report, error) {
	var r status.Report
	return &r, c.do(ctx, http.MethodGet, PathStatus, &r)
}

// Findings returns the latest findings.
func (c *Client) Findings(ctx context.Context) ([]status.Finding, error) {
	var fs []status.Finding
	return fs, c.do(ctx, http.MethodGet, PathFindings, &fs)
}

// Inventory returns the latest inventory.
func (c *Client) Inventory(ctx context.Context) (*policy.Inventory, error) {
	var inv policy.Inventory
	return &inv, c.do(ctx, http.MethodGet, PathInventory, &inv)
}

// Scan asks the agent to scan now and returns the new report. Only
// administrators may; others get an *AccessDeniedError.
func (c *Client) Scan(ctx context.Context) (*status.Report, error) {
	var r status.Report
	return &r, c.do(ctx, http.MethodPost, PathScan, &r)
}

// Drift returns what changed since the given time (zero: everything kept).
func (c *Client) Drift(ctx context.Context, since time.Time) (*apitype.DriftResponse, error) {
	p := PathDrift
	if !since.IsZero() {
		p += "?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339))
	}
	var r apitype.DriftResponse
	return &r, c.do(ctx, http.MethodGet, p, &r)
}

// Health returns the agent's own health.
func (c *Client) Health(ctx context.Context) (*status.Health, error) {
	var h status.Health
	return &h, c.do(ctx, http.MethodGet, PathHealth, &h)
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	return c.doJSON(ctx, method, path, nil, out)
}

// doJSON sends in (nil: no body) as JSON and decodes the answer into out.
func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var reqBody io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the request to %s: %w", path, err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+Host+path, reqBody)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.connError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("reading the agent's answer: %w", err)
	}
	if len(body) > maxResponse {
		return fmt.Errorf("the agent's answer exceeds %d bytes", maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(body, &eb) != nil || eb.Error == "" {
			eb.Error = string(bytes.TrimSpace(body))
		}
		if resp.StatusCode == http.StatusForbidden {
			return &AccessDeniedError{Msg: eb.Error}
		}
		return &APIError{Code: resp.StatusCode, Msg: eb.Error}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decoding the agent's answer to %s: %w", path, err)
	}
	return nil
}

// connError maps a transport failure to ErrNotRunning when nobody listens:
// no socket file, a stale socket (connection refused), or no pipe.
func (c *Client) connError(err error) error {
	if isNoListener(err) {
		return fmt.Errorf("%w (%s): %w", ErrNotRunning, c.endpoint, err)
	}
	return fmt.Errorf("talking to the agent at %s: %w", c.endpoint, err)
}

// isNoListener reports whether err means nobody serves the endpoint.
func isNoListener(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED)
}
