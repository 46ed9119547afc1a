package windows

// Commands returns the commands this package runs by name, with the
// absolute paths production resolves them to (platform.ExecRunner.Paths).
// PowerShell, the only one, lives under %SystemRoot%, which only
// administrators and TrustedInstaller can write. The 64-bit agent sees the
// real System32 (no WOW64 redirection).
func Commands() map[string][]string {
	return map[string][]string{
		"powershell": {`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`},
	}
}
