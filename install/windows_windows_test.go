package install

import (
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

func TestRecoveryActions(t *testing.T) {
	got := RecoveryActions()
	if len(got) != 3 {
		t.Fatalf("%d recovery actions; want 3", len(got))
	}
	for i, a := range got {
		if a.Type != mgr.ServiceRestart || a.Delay != 5*time.Second {
			t.Errorf("action %d = %+v; want restart after 5s", i, a)
		}
	}
	if recoveryResetPeriod != 86400 {
		t.Errorf("reset period %d s; want a day", recoveryResetPeriod)
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine(`C:\Program Files\msgguard\agent.exe`, []string{"run", "--config", `C:\ProgramData\msgguard\agent.yaml`})
	want := `"C:\Program Files\msgguard\agent.exe" run --config C:\ProgramData\msgguard\agent.yaml`
	if got != want {
		t.Errorf("commandLine = %s; want %s", got, want)
	}
}

func TestDirSDDL(t *testing.T) {
	if _, err := windows.SecurityDescriptorFromString(dirSDDL); err != nil {
		t.Fatalf("dirSDDL %q: %v", dirSDDL, err)
	}
}
