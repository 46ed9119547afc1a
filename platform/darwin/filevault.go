package darwin

import (
	"regexp"
	"strings"
	"sync"

	"github.com/msgguard/msgguard/policy"
)

// fileVaultState is `fdesetup status` normalised.
type fileVaultState struct {
	Encrypted policy.Tri
	Detail    string // progress or deferral, for Source
	Reason    string // why Unknown
}

var fdeProgressRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(Encryption|Decryption) in progress:?\s*(?:Percent completed = ([0-9.]+)|(Pending|Paused))?`)
})

// parseFdesetupStatus interprets `fdesetup status`. The answers seen in the
// wild (testdata/README.md lists them) are:
//
//	FileVault is On.
//	FileVault is Off.
//	FileVault is On.\nEncryption in progress: Percent completed = 42.5
//	Decryption in progress: Percent completed = 12.0
//	FileVault is Off.\nDeferred enablement appears to be active for user 'x'.
//
// A volume still being encrypted (or decrypted) is not yet protected: No,
// with the progress in Detail. Anything else is Unknown.
func parseFdesetupStatus(b []byte) fileVaultState {
	text := string(b)
	if m := fdeProgressRe().FindStringSubmatch(text); m != nil {
		detail := strings.ToLower(m[1]) + " in progress"
		if m[2] != "" {
			detail += " (" + m[2] + "% done)"
		} else if m[3] != "" {
			detail += " (" + strings.ToLower(m[3]) + ")"
		}
		return fileVaultState{Encrypted: policy.No, Detail: detail}
	}
	switch {
	case strings.Contains(text, "FileVault is On."):
		return fileVaultState{Encrypted: policy.Yes}
	case strings.Contains(text, "FileVault is Off"):
		st := fileVaultState{Encrypted: policy.No}
		if strings.Contains(text, "Deferred enablement") || strings.Contains(text, "will be enabled after the next restart") {
			st.Detail = "deferred enablement pending (turns on at the next login)"
		}
		return st
	}
	return fileVaultState{Reason: "fdesetup status answer not recognised"}
}

// scanFileVault reports the boot volume's FileVault state.
func scanFileVault(s *scan) policy.DiskEncryption {
	v := policy.Volume{Mount: "/", Method: "FileVault", Source: "fdesetup status"}
	out, err := s.h.Output(s.ctx, "fdesetup", "status")
	if err != nil {
		v.Reason = "fdesetup status failed: " + err.Error()
		return policy.DiskEncryption{Volumes: []policy.Volume{v}}
	}
	st := parseFdesetupStatus(out)
	v.Encrypted, v.Reason = st.Encrypted, st.Reason
	if st.Detail != "" {
		v.Source += ": " + st.Detail
	}
	return policy.DiskEncryption{Volumes: []policy.Volume{v}}
}
