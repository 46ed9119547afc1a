package localapi

import (
	"testing"

	"golang.org/x/sys/windows"
)

// TestPipeSDDL checks that the pipe's security descriptor parses and grants
// Authenticated Users neither FILE_APPEND_DATA (= FILE_CREATE_PIPE_INSTANCE)
// nor WRITE_DAC/WRITE_OWNER.
func TestPipeSDDL(t *testing.T) {
	sd, err := windows.SecurityDescriptorFromString(PipeSDDL)
	if err != nil {
		t.Fatalf("SecurityDescriptorFromString(%q): %v", PipeSDDL, err)
	}
	if _, _, err := sd.DACL(); err != nil {
		t.Fatalf("DACL: %v", err)
	}
	const au = 0x12008b
	if au&(windows.FILE_APPEND_DATA|windows.WRITE_DAC|windows.WRITE_OWNER) != 0 {
		t.Errorf("Authenticated Users mask %#x allows creating pipe instances or changing the ACL", au)
	}
	if pipeAccess != au {
		t.Errorf("client access %#x differs from the mask granted to users %#x", pipeAccess, au)
	}
}
