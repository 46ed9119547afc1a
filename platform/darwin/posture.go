package darwin

import "github.com/msgguard/msgguard/policy"

// scanPosture gathers screen lock, remote wipe and FileVault.
func scanPosture(s *scan, users []policy.User, hwUUID string) policy.Posture {
	return policy.Posture{
		ScreenLock: scanScreenLock(s, users, hwUUID),
		RemoteWipe: scanRemoteWipe(s),
		Encryption: scanFileVault(s),
		Inspected:  true,
	}
}
