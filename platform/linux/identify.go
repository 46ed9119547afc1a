package linux

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// deviceIDKey is the fixed, application-specific key for the device id.
// machine-id(5) says the machine id is confidential and "must not be
// exposed in untrusted environments"; an application that needs a stable
// id should hash it "with a cryptographic, keyed hash function, using a
// fixed, application-specific key" (what sd_id128_get_machine_app_specific
// does with HMAC-SHA256). The device id is therefore
// HMAC-SHA256(machine-id, deviceIDKey), truncated to 128 bits like
// systemd's application-specific ids.
const deviceIDKey = "msgguard device id v1"

// maxSmallFile caps one-line files such as machine-id and hostname.
const maxSmallFile = 64 << 10

// identify fills inv.Device from the machine id, hostname and os-release.
// A missing file is a Problem; only an unreadable root is an error.
func identify(h *platform.Host, inv *policy.Inventory) error {
	if h == nil || h.Root == nil {
		return errors.New("identify: no root filesystem")
	}
	if _, err := fs.Stat(h.Root, "."); err != nil {
		return fmt.Errorf("identify: reading root %q: %w", h.RootDir, err)
	}
	inv.Device.Kind = policy.DeviceComputer
	inv.Device.Platform = "linux"
	identifyMachineID(h, inv)
	identifyHostname(h, inv)
	identifyOS(h, inv)
	return nil
}

func identifyMachineID(h *platform.Host, inv *policy.Inventory) {
	// systemd writes /etc/machine-id; D-Bus's older copy is the fallback
	// on systems without systemd (machine-id(5)).
	var firstErr error
	for _, name := range []string{"etc/machine-id", "var/lib/dbus/machine-id"} {
		b, err := platform.ReadFile(h.Root, name, maxSmallFile)
		if err == nil {
			id, perr := parseMachineID(b)
			if perr == nil {
				inv.Device.ID = deviceID(id)
				return
			}
			err = fmt.Errorf("%s: %w", name, perr)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	inv.Problems = append(inv.Problems, policy.Problem{
		Probe: "identify", Path: "/etc/machine-id",
		Message: "no usable machine id, the device id is empty: " + describeErr(firstErr),
	})
}

// parseMachineID validates the machine-id format: 32 lower-case hex digits
// and a newline (machine-id(5)). "uninitialized" (first boot) is refused.
func parseMachineID(b []byte) ([]byte, error) {
	s := bytes.TrimSpace(b)
	if len(s) != 32 {
		return nil, errors.New("not a 32-digit machine id")
	}
	raw := make([]byte, 16)
	if _, err := hex.Decode(raw, s); err != nil {
		return nil, errors.New("machine id is not hexadecimal")
	}
	return raw, nil
}

// deviceID derives the stable, non-reversible device id from the raw
// 16-byte machine id.
func deviceID(machineID []byte) string {
	m := hmac.New(sha256.New, machineID)
	m.Write([]byte(deviceIDKey))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func identifyHostname(h *platform.Host, inv *policy.Inventory) {
	b, err := platform.ReadFile(h.Root, "etc/hostname", maxSmallFile)
	if err != nil && h.Live {
		// Some systems never write /etc/hostname; the kernel knows the
		// live name.
		b, err = platform.ReadFile(h.Root, "proc/sys/kernel/hostname", maxSmallFile)
	}
	if err != nil {
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "identify", Path: "/etc/hostname", Message: "hostname not read: " + describeErr(err)})
		return
	}
	inv.Device.Hostname = parseHostname(b)
}

// parseHostname returns the first non-comment line (hostname(5) allows
// comments), trimmed.
func parseHostname(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return ""
}

func identifyOS(h *platform.Host, inv *policy.Inventory) {
	// os-release(5): /etc/os-release takes precedence, /usr/lib/os-release
	// is the fallback.
	var firstErr error
	for _, name := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := platform.ReadFile(h.Root, name, platform.MaxConfigSize)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		inv.Device.OSVersion = osVersion(parseOSRelease(b))
		return
	}
	inv.Problems = append(inv.Problems, policy.Problem{Probe: "identify", Path: "/etc/os-release", Message: "OS version not read: " + describeErr(firstErr)})
}

func osVersion(kv map[string]string) string {
	if v := kv["PRETTY_NAME"]; v != "" {
		return v
	}
	return strings.TrimSpace(kv["NAME"] + " " + kv["VERSION"])
}

// parseOSRelease parses os-release(5): KEY=value lines, values optionally
// in single or double quotes, with backslash escapes inside double quotes.
// Lines it cannot parse are skipped, as the man page asks of readers.
func parseOSRelease(b []byte) map[string]string {
	kv := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		kv[k] = unquoteShell(v)
	}
	return kv
}

func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("$\"\\`", v[i+1]) >= 0 {
			i++
		}
		sb.WriteByte(v[i])
	}
	return sb.String()
}

// describeErr turns a read error into a short message without the path
// (the Problem carries it) and never with file content.
func describeErr(err error) string {
	if err == nil {
		return "unknown error"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
