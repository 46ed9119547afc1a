// Package reporttest provides the collectors the reporting tests deliver
// to: a real rsyslogd started on loopback ports with a temporary
// configuration, an HTTPS webhook collector that records idempotency keys
// and can misbehave on demand, and a throwaway certificate authority.
package reporttest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// CA is a throwaway certificate authority with one server certificate for
// 127.0.0.1 and "localhost".
type CA struct {
	CAFile, CertFile, KeyFile string
	Server                    tls.Certificate
	// ClientCertFile/ClientKeyFile are a client certificate for mutual TLS.
	ClientCertFile, ClientKeyFile string
	Pool                          *x509.CertPool
}

// NewCA writes a CA, a server and a client certificate to dir.
func NewCA(t testing.TB, dir string) *CA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "msgguard test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, cn string) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	ca := &CA{CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server.key"),
		ClientCertFile: filepath.Join(dir, "client.pem"), ClientKeyFile: filepath.Join(dir, "client.key")}
	writePEM(t, ca.CAFile, "CERTIFICATE", caDER, 0o644)
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, "127.0.0.1")
	writePEM(t, ca.CertFile, "CERTIFICATE", srvDER, 0o644)
	writeKey(t, ca.KeyFile, srvKey)
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, "msgguard-agent")
	writePEM(t, ca.ClientCertFile, "CERTIFICATE", cliDER, 0o644)
	writeKey(t, ca.ClientKeyFile, cliKey)
	ca.Server, err = tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ca.Pool = x509.NewCertPool()
	ca.Pool.AddCert(caCert)
	return ca
}

func writePEM(t testing.TB, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t testing.TB, path string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der, 0o600)
}

// Fault is how the collector treats one request.
type Fault int

const (
	OK Fault = iota
	Status500
	Status429 // with Retry-After: 0
	Hang      // never answers until the request is cancelled
	Close     // hijacks the connection and closes it mid-request
	// AcceptThenHang accepts the events (as a collector that stored them)
	// but never answers: the agent cannot know they arrived.
	AcceptThenHang
)

// Request is one request the collector received.
type Request struct {
	Fault          Fault
	IdempotencyKey string
	Authorization  string
	IDs            []string
	Devices        []string
}

// Collector is an HTTPS webhook collector on 127.0.0.1.
type Collector struct {
	Server    *httptest.Server
	URL       string
	Token     string
	TokenFile string
	CA        *CA

	mu       sync.Mutex
	faults   []Fault // consumed one per request; OK when empty
	requests []Request
	// Accepted is signalled after each accepted request.
	Accepted chan struct{}
}

// NewCollector starts a collector whose token is written to a root-only
// file in dir. clientCA, if set, requires client certificates from it.
func NewCollector(t testing.TB, dir string, ca *CA, requireClientCert bool) *Collector {
	t.Helper()
	c := &Collector{Token: "s3cr3t-Bearer-" + strconv.FormatInt(time.Now().UnixNano(), 36), CA: ca, Accepted: make(chan struct{}, 1000)}
	c.TokenFile = filepath.Join(dir, "webhook.token")
	if err := os.WriteFile(c.TokenFile, []byte(c.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	c.Server.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server}}
	if requireClientCert {
		c.Server.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		c.Server.TLS.ClientCAs = ca.Pool
	}
	c.Server.StartTLS()
	t.Cleanup(c.Server.Close)
	c.URL = c.Server.URL + "/v1/events?tenant=acme"
	return c
}

// Fail queues faults for the next requests.
func (c *Collector) Fail(f ...Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, f...)
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	f := OK
	if len(c.faults) > 0 {
		f, c.faults = c.faults[0], c.faults[1:]
	}
	c.mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	var batch struct {
		SchemaVersion int `json:"schema_version"`
		Events        []struct {
			ID     string `json:"id"`
			Device string `json:"device"`
		} `json:"events"`
	}
	_ = json.Unmarshal(body, &batch)
	req := Request{Fault: f, IdempotencyKey: r.Header.Get("Idempotency-Key"), Authorization: r.Header.Get("Authorization")}
	for _, e := range batch.Events {
		req.IDs = append(req.IDs, e.ID)
		req.Devices = append(req.Devices, e.Device)
	}
	c.mu.Lock()
	c.requests = append(c.requests, req)
	c.mu.Unlock()
	switch f {
	case Status500:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case Status429:
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case Hang, AcceptThenHang:
		<-r.Context().Done()
		// Returning would send an implicit 200 that can still reach a
		// client that is just giving up; abort the connection instead.
		panic(http.ErrAbortHandler)
	case Close:
		if hj, ok := w.(http.Hijacker); ok {
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
		}
	default:
		if r.Header.Get("Authorization") != "Bearer "+c.Token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		select {
		case c.Accepted <- struct{}{}:
		default:
		}
	}
}

// Requests returns every request received so far.
func (c *Collector) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.requests...)
}

// Delivered returns the event ids of accepted requests, de-duplicated by
// id (as a collector honouring idempotency keys would), in first-accepted
// order, and how often each id was accepted.
func (c *Collector) Delivered() (ids []string, times map[string]int) {
	times = map[string]int{}
	for _, r := range c.Requests() {
		if r.Fault != OK && r.Fault != AcceptThenHang || r.Authorization != "Bearer "+c.Token {
			continue
		}
		for _, id := range r.IDs {
			if times[id] == 0 {
				ids = append(ids, id)
			}
			times[id]++
		}
	}
	return ids, times
}

// Rsyslog is a real rsyslogd listening on loopback.
type Rsyslog struct {
	UDP, TCP, TLS string // host:port of each input ("" if not started)
	Out           string // file the received messages are written to
	CA            *CA
	cmd           *exec.Cmd
}

// OutputTemplate is how the test rsyslogd writes each received message:
// the input, then the parsed RFC 5424 fields, so that tests assert on
// what rsyslog understood, not on what we sent.
const OutputTemplate = `%inputname%|%pri%|%msgid%|%app-name%|%hostname%|%structured-data%|%msg%\n`

// StartRsyslog starts rsyslogd from the Debian package with a temporary
// configuration (imudp, imtcp and, if the rsyslog-openssl package is
// installed, imtcp with TLS) on free 127.0.0.1 ports. It skips the test
// when rsyslogd is not installed.
func StartRsyslog(t testing.TB) *Rsyslog {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("rsyslogd not installed (Debian package rsyslog); skipping the syslog integration test")
	}
	dir := t.TempDir()
	r := &Rsyslog{Out: filepath.Join(dir, "received.log"), CA: NewCA(t, dir)}
	udpPort, tcpPort, tlsPort := freePort(t, "udp"), freePort(t, "tcp"), freePort(t, "tcp")
	r.UDP, r.TCP = "127.0.0.1:"+udpPort, "127.0.0.1:"+tcpPort
	tlsOK := hasOSSL()
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\"", dir)
	if tlsOK {
		fmt.Fprintf(&conf, " defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q",
			r.CA.CAFile, r.CA.CertFile, r.CA.KeyFile)
	}
	conf.WriteString(")\n")
	conf.WriteString("module(load=\"imudp\")\nmodule(load=\"imtcp\")\n")
	fmt.Fprintf(&conf, "input(type=\"imudp\" address=\"127.0.0.1\" port=%q name=\"udp\")\n", udpPort)
	fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=%q name=\"tcp\")\n", tcpPort)
	if tlsOK {
		r.TLS = "127.0.0.1:" + tlsPort
		fmt.Fprintf(&conf, "input(type=\"imtcp\" address=\"127.0.0.1\" port=%q name=\"tls\" streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n", tlsPort)
	}
	fmt.Fprintf(&conf, "template(name=\"test\" type=\"string\" string=%q)\n", strings.ReplaceAll(OutputTemplate, `\n`, "\n"))
	fmt.Fprintf(&conf, "action(type=\"omfile\" file=%q template=\"test\")\n", r.Out)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	r.cmd = exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = &stderr, &stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting rsyslogd: %v", err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	})
	for _, addr := range []string{r.TCP, r.TLS} {
		if addr == "" {
			continue
		}
		if !waitListening(addr, 10*time.Second) {
			t.Fatalf("rsyslogd did not listen on %s; its output:\n%s\nconfig:\n%s", addr, stderr.String(), conf.String())
		}
	}
	return r
}

func hasOSSL() bool {
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog", "/usr/lib64/rsyslog"} {
		if _, err := os.Stat(filepath.Join(d, "lmnsd_ossl.so")); err == nil {
			return true
		}
	}
	return false
}

func freePort(t testing.TB, network string) string {
	t.Helper()
	var addr net.Addr
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = c.LocalAddr()
		c.Close()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr()
		l.Close()
	}
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}

func waitListening(addr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// WaitLines waits until the output holds at least n lines matching keep
// (all lines when nil) and returns them.
func (r *Rsyslog) WaitLines(t testing.TB, n int, keep func(string) bool, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got []string
	for {
		got = got[:0]
		if f, err := os.Open(r.Out); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
			for sc.Scan() {
				if keep == nil || keep(sc.Text()) {
					got = append(got, sc.Text())
				}
			}
			f.Close()
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}
