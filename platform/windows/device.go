package windows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// Registry locations that identify the machine.
const (
	keyCryptography = `HKLM\SOFTWARE\Microsoft\Cryptography`
	keyComputerName = `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`
	keyCurrentVer   = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	keyBIOS         = `HKLM\HARDWARE\DESCRIPTION\System\BIOS`
)

// identify fills the device identity. MachineGuid is written at setup and
// stays for the life of the installation, so its hash is a stable ID that
// does not disclose the GUID itself (which other software also uses as an
// identifier). Without it the scan fails: the registry is not readable.
func (s *scanner) identify(d *policy.Device) error {
	vals, err := s.reg.Values(keyCryptography)
	if err != nil {
		return fmt.Errorf("reading %s: %w", keyCryptography, err)
	}
	guid, ok, err := stringValue(vals, "MachineGuid")
	if err == nil && (!ok || strings.TrimSpace(guid) == "") {
		err = errors.New("value MachineGuid is missing")
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", keyCryptography, err)
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(guid))))
	d.ID = hex.EncodeToString(sum[:])
	d.Hostname = s.readString("device", keyComputerName, "ComputerName")
	d.OSVersion = s.osVersion()
	d.Model = strings.TrimSpace(s.readString("device", keyBIOS, "SystemManufacturer") + " " + s.readString("device", keyBIOS, "SystemProductName"))
	return nil
}

// osVersion formats e.g. "Windows 11 Pro 23H2 (build 22631.3880)".
// ProductName still says "Windows 10" on Windows 11; build 22000 and later
// is Windows 11 (Microsoft Q&A 555857, "Windows 11 product name in
// registry"). DisplayVersion is missing before 20H2, where ReleaseId holds
// the same thing.
func (s *scanner) osVersion() string {
	vals, err := s.reg.Values(keyCurrentVer)
	if err != nil {
		s.probs.add("device", keyCurrentVer, err)
		return ""
	}
	str := func(name string) string {
		v, _, err := stringValue(vals, name)
		if err != nil {
			s.probs.add("device", keyCurrentVer, err)
		}
		return strings.TrimSpace(v)
	}
	product, display, build := str("ProductName"), str("DisplayVersion"), str("CurrentBuild")
	if display == "" {
		display = str("ReleaseId")
	}
	if build == "" {
		build = str("CurrentBuildNumber")
	}
	if n, err := strconv.Atoi(build); err == nil && n >= 22000 {
		product = strings.Replace(product, "Windows 10", "Windows 11", 1)
	}
	out := strings.TrimSpace(product + " " + display)
	if build != "" {
		b := build
		if ubr, ok, err := intValue(vals, "UBR"); err == nil && ok {
			b += "." + strconv.FormatUint(ubr, 10)
		}
		out = strings.TrimSpace(out + " (build " + b + ")")
	}
	return out
}

// readString reads one string value, recording a problem when the key is
// unreadable for another reason than being absent or the value has the
// wrong type. Absent values read as "".
func (s *scanner) readString(probe, key, name string) string {
	vals, err := s.reg.Values(key)
	if err != nil {
		if !isNotExist(err) {
			s.probs.add(probe, key, err)
		}
		return ""
	}
	v, _, err := stringValue(vals, name)
	if err != nil {
		s.probs.add(probe, key, err)
	}
	return strings.TrimSpace(v)
}
