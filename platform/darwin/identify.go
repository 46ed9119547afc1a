package darwin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"

	"github.com/msgguard/msgguard/platform"
)

// Files read to identify the Mac.
const (
	// systemVersionPlist holds ProductVersion and ProductBuildVersion; it is
	// what sw_vers prints.
	systemVersionPlist = "System/Library/CoreServices/SystemVersion.plist"
	// preferencesPlist is configd's store of the names set with scutil
	// (System/System/HostName, System/Network/HostNames/LocalHostName).
	preferencesPlist = "Library/Preferences/SystemConfiguration/preferences.plist"
)

// ioregInfo is what identify needs from `ioreg -rd1 -c IOPlatformExpertDevice`.
type ioregInfo struct {
	UUID  string // IOPlatformUUID, the hardware UUID
	Model string // e.g. MacBookPro17,1
}

var (
	ioregUUIDRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\s*"IOPlatformUUID"\s*=\s*"([0-9A-Fa-f-]{36})"\s*$`)
	})
	ioregModelRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*"model"\s*=\s*<"([^"]{1,64})">\s*$`) })
)

// parseIoreg extracts the platform UUID and model from ioreg's text output.
// The format is one `"key" = value` per line inside braces (see
// testdata/README.md for the sources of the recorded output).
func parseIoreg(b []byte) (ioregInfo, error) {
	var info ioregInfo
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := ioregUUIDRe().FindStringSubmatch(line); m != nil && info.UUID == "" {
			info.UUID = m[1]
		}
		if m := ioregModelRe().FindStringSubmatch(line); m != nil && info.Model == "" {
			info.Model = m[1]
		}
	}
	if err := sc.Err(); err != nil {
		return info, fmt.Errorf("reading ioreg output: %w", err)
	}
	if info.UUID == "" {
		return info, errors.New("ioreg output has no IOPlatformUUID")
	}
	return info, nil
}

// deviceID hashes an identifier so the raw hardware UUID (which Apple's
// services also see) never leaves the device.
func deviceID(kind, value string) string {
	sum := sha256.Sum256([]byte("msgguard-darwin-" + kind + ":" + value))
	return hex.EncodeToString(sum[:16])
}

type systemVersion struct {
	ProductVersion      plistString `plist:"ProductVersion"`
	ProductBuildVersion plistString `plist:"ProductBuildVersion"`
}

type scPreferences struct {
	System struct {
		System struct {
			HostName plistString `plist:"HostName"`
		} `plist:"System"`
		Network struct {
			HostNames struct {
				LocalHostName plistString `plist:"LocalHostName"`
			} `plist:"HostNames"`
		} `plist:"Network"`
	} `plist:"System"`
}

// identify fills inv.Device and returns the hardware UUID (needed for the
// ByHost preference file names), or "" when it is unknown.
func identify(s *scan) string {
	h, inv := s.h, s.inv
	inv.Device.OSVersion = osVersion(s)
	inv.Device.Hostname = hostname(s)
	out, err := h.Output(s.ctx, "ioreg", "-rd1", "-c", "IOPlatformExpertDevice")
	var info ioregInfo
	if err == nil {
		info, err = parseIoreg(out)
	}
	if err != nil {
		fallback := inv.Device.Hostname
		if fallback == "" && h.Live {
			fallback, _ = os.Hostname()
		}
		inv.Device.ID = deviceID("hostname", fallback)
		s.problem("device", "", fmt.Sprintf("no hardware UUID (%v); device id derived from the host name, which can change", err))
		return ""
	}
	inv.Device.ID = deviceID("uuid", info.UUID)
	inv.Device.Model = info.Model
	return info.UUID
}

func osVersion(s *scan) string {
	b, err := platform.ReadFile(s.h.Root, systemVersionPlist, platform.MaxConfigSize)
	var v systemVersion
	if err == nil {
		err = decodePlist(b, &v)
	}
	if err != nil {
		s.problem("device", "/"+systemVersionPlist, "cannot read the macOS version: "+err.Error())
		return ""
	}
	if v.ProductBuildVersion != "" {
		return fmt.Sprintf("macOS %s (%s)", v.ProductVersion, v.ProductBuildVersion)
	}
	return "macOS " + string(v.ProductVersion)
}

// hostname reads the names configd keeps; missing names are not a problem
// (a Mac that was never renamed has only LocalHostName).
func hostname(s *scan) string {
	b, err := platform.ReadFile(s.h.Root, preferencesPlist, platform.MaxConfigSize)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	var p scPreferences
	if err == nil {
		err = decodePlist(b, &p)
	}
	if err != nil {
		s.problem("device", "/"+preferencesPlist, "cannot read the host name: "+err.Error())
		return ""
	}
	if p.System.System.HostName != "" {
		return string(p.System.System.HostName)
	}
	return string(p.System.Network.HostNames.LocalHostName)
}
