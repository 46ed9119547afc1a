package windows

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// BitLocker status comes from the WMI class Win32_EncryptableVolume
// (namespace root\cimv2\security\microsoftvolumeencryption, admin/SYSTEM
// only) by calling its methods GetProtectionStatus and GetConversionStatus.
// Not the cached ProtectionStatus property, which osquery found stale on
// Windows 11 26100 (osquery/osquery osquery/tables/system/windows/bitlocker_info.cpp),
// and not manage-bde, whose output is localized.
//
// We run the CIM cmdlets through powershell.exe rather than calling WMI over
// COM from the service: the call goes through the Runner seam, so it is
// tested with recorded output like every other command; the service needs
// no COM apartment or go-ole dependency of its own; ConvertTo-Json prints
// the methods' numeric results, which do not depend on the display
// language; and an administrator can paste the same script to see what the
// agent saw. The cost is one powershell.exe start (about a second) per scan.
// The script contains no double quotes, so Windows command-line quoting
// cannot change it, and it is passed with -Command rather than
// -EncodedCommand, which endpoint protection flags as suspicious.
const bitLockerScript = `$ErrorActionPreference = 'Stop'; ` +
	`$out = @(Get-CimInstance -Namespace 'root/cimv2/security/microsoftvolumeencryption' -ClassName 'Win32_EncryptableVolume' | ForEach-Object { ` +
	`$v = $_; $r = [ordered]@{ DeviceID = $v.DeviceID; DriveLetter = $v.DriveLetter; VolumeType = $v.VolumeType }; ` +
	`try { $p = Invoke-CimMethod -InputObject $v -MethodName 'GetProtectionStatus'; $r.ProtectionStatus = $p.ProtectionStatus; $r.ProtectionReturn = $p.ReturnValue } catch { $r.ProtectionError = $_.Exception.HResult }; ` +
	`try { $c = Invoke-CimMethod -InputObject $v -MethodName 'GetConversionStatus'; $r.ConversionStatus = $c.ConversionStatus; $r.EncryptionPercentage = $c.EncryptionPercentage; $r.ConversionReturn = $c.ReturnValue } catch { $r.ConversionError = $_.Exception.HResult }; ` +
	`[pscustomobject]$r }); ` +
	`ConvertTo-Json -InputObject $out -Compress`

// BitLockerArgs are the powershell arguments of the BitLocker probe.
func BitLockerArgs() []string {
	return []string{"-NoLogo", "-NoProfile", "-NonInteractive", "-Command", bitLockerScript}
}

// blVolume is one element of the script's JSON output. Pointers tell a
// missing field from zero.
type blVolume struct {
	DeviceID             string
	DriveLetter          *string
	VolumeType           *int64
	ProtectionStatus     *int64
	ProtectionReturn     *int64
	ProtectionError      *int64
	ConversionStatus     *int64
	EncryptionPercentage *int64
	ConversionReturn     *int64
	ConversionError      *int64
}

// parseBitLocker decodes the script's output: a JSON array, or a single
// object (ConvertTo-Json unwraps one-element arrays in some versions), or
// nothing for a machine without encryptable volumes.
func parseBitLocker(b []byte) ([]blVolume, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 {
		return nil, nil
	}
	var vols []blVolume
	if b[0] == '{' {
		var v blVolume
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("parsing BitLocker JSON: %w", err)
		}
		return []blVolume{v}, nil
	}
	if err := json.Unmarshal(b, &vols); err != nil {
		return nil, fmt.Errorf("parsing BitLocker JSON: %w", err)
	}
	return vols, nil
}

// Win32_EncryptableVolume constants (Microsoft Learn, GetConversionStatus,
// GetProtectionStatus and the VolumeType property).
const (
	volumeTypeOS       = 0
	volumeTypePortable = 2

	protectionOff     = 0
	protectionOn      = 1
	protectionUnknown = 2 // the volume is locked

	conversionFullyDecrypted = 0
	conversionFullyEncrypted = 1
)

func conversionName(status int64) string {
	switch status {
	case 2:
		return "encryption in progress"
	case 3:
		return "decryption in progress"
	case 4:
		return "encryption paused"
	}
	return "decryption paused"
}

const bitLockerSource = "WMI Win32_EncryptableVolume GetConversionStatus/GetProtectionStatus"

// volumes turns the parsed output into the fixed volumes that matter: the
// OS volume and fixed data volumes with a drive letter. Removable
// (VolumeType 2) volumes and letterless system partitions are left out.
func volumes(bl []blVolume) []policy.Volume {
	var out []policy.Volume
	for _, v := range bl {
		letter := ""
		if v.DriveLetter != nil {
			letter = strings.TrimSpace(*v.DriveLetter)
		}
		isOS := v.VolumeType != nil && *v.VolumeType == volumeTypeOS
		if v.VolumeType != nil && *v.VolumeType == volumeTypePortable {
			continue
		}
		if letter == "" && !isOS {
			continue
		}
		mount := letter
		if mount == "" {
			mount = v.DeviceID
		}
		if mount == "" {
			mount = "os-volume" // malformed output, but the OS volume matters
		}
		out = append(out, volume(mount, v))
	}
	return out
}

func volume(mount string, v blVolume) policy.Volume {
	vol := policy.Volume{Mount: mount, Device: v.DeviceID, Source: bitLockerSource}
	locked := methodOK(v.ProtectionReturn, v.ProtectionError) && v.ProtectionStatus != nil && *v.ProtectionStatus == protectionUnknown
	switch {
	case locked:
		// Only an encrypted volume with active protectors can be locked.
		vol.Encrypted, vol.Protected, vol.Method = policy.Yes, policy.Yes, "BitLocker"
		vol.Source += " (volume locked)"
		return vol
	case !methodOK(v.ConversionReturn, v.ConversionError) || v.ConversionStatus == nil:
		vol.Reason = "GetConversionStatus failed" + methodCode(v.ConversionReturn, v.ConversionError)
	case *v.ConversionStatus == conversionFullyEncrypted:
		vol.Encrypted, vol.Method = policy.Yes, "BitLocker"
	case *v.ConversionStatus == conversionFullyDecrypted:
		vol.Encrypted, vol.Protected = policy.No, policy.No
		return vol
	case *v.ConversionStatus >= 2 && *v.ConversionStatus <= 5:
		// Partly encrypted: part of the data is readable without a key,
		// whatever the protectors say.
		vol.Encrypted, vol.Protected, vol.Method = policy.No, policy.No, "BitLocker"
		name := conversionName(*v.ConversionStatus)
		if v.EncryptionPercentage != nil {
			name += fmt.Sprintf(", %d%% encrypted", *v.EncryptionPercentage)
		}
		vol.Reason = "partially encrypted: " + name
		return vol
	default:
		vol.Reason = fmt.Sprintf("unknown conversion status %d", *v.ConversionStatus)
	}
	switch {
	case !methodOK(v.ProtectionReturn, v.ProtectionError) || v.ProtectionStatus == nil:
		vol.Reason = joinReason(vol.Reason, "GetProtectionStatus failed"+methodCode(v.ProtectionReturn, v.ProtectionError))
	case *v.ProtectionStatus == protectionOn:
		vol.Protected = policy.Yes
	case *v.ProtectionStatus == protectionOff:
		// Fully encrypted with protection off: suspended, or "waiting for
		// activation" (clear key, device encryption before a protector was
		// added): the data is encrypted but anyone can read it.
		vol.Protected = policy.No
		if vol.Encrypted == policy.Yes {
			vol.Reason = joinReason(vol.Reason, "encrypted but protection is off (suspended or waiting for activation)")
		}
	}
	return vol
}

func methodOK(ret, exc *int64) bool {
	return exc == nil && (ret == nil || *ret == 0)
}

func methodCode(ret, exc *int64) string {
	switch {
	case exc != nil:
		return fmt.Sprintf(" (exception 0x%08X)", uint32(*exc))
	case ret != nil:
		return fmt.Sprintf(" (0x%08X)", uint32(*ret))
	}
	return ""
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// bitLocker runs the probe. When it cannot tell, the system drive is
// reported as Unknown with the reason, so that the policy sees an open
// question instead of an empty list.
func (s *scanner) bitLocker(ctx context.Context) policy.DiskEncryption {
	unknown := func(reason string) policy.DiskEncryption {
		return policy.DiskEncryption{
			Volumes: []policy.Volume{{Mount: s.drive, Encrypted: policy.Unknown, Source: bitLockerSource, Reason: reason}},
			Reason:  reason,
		}
	}
	out, err := s.h.Output(ctx, "powershell", BitLockerArgs()...)
	if err != nil {
		s.probs.add("bitlocker", "powershell", err)
		// Typical causes: the BitLocker optional component is not installed
		// (Windows Server: the namespace is missing) or no admin rights.
		return unknown("BitLocker WMI query failed: " + err.Error())
	}
	bl, err := parseBitLocker(out)
	if err != nil {
		s.probs.add("bitlocker", "powershell", err)
		return unknown("BitLocker WMI output unreadable")
	}
	vols := volumes(bl)
	if len(vols) == 0 {
		return unknown("WMI listed no fixed encryptable volume")
	}
	return policy.DiskEncryption{Volumes: vols}
}
