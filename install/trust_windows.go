package install

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/windows"
)

// ErrUntrusted is returned for a file that a non-administrator could have
// written or swapped.
var ErrUntrusted = errors.New("not trusted")

// ReadTrusted reads an install source named by an administrator. On Windows
// the file must be a regular file (not a reparse point) owned by SYSTEM,
// Administrators or TrustedInstaller. Unlike on Unix the DACL is not
// evaluated, so a file an administrator owns but made writable by everyone
// is accepted; the owner check stops the common case of a file a user
// created in their own profile.
func ReadTrusted(path string, limit int64) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file: %w", path, ErrUntrusted)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkOwner(windows.Handle(f.Fd()), path); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// CheckExecutable checks the owner of the agent binary (see ReadTrusted).
func CheckExecutable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkOwner(windows.Handle(f.Fd()), path); err != nil {
		return fmt.Errorf(`the agent binary must be installed by an administrator (e.g. in C:\Program Files\msgguard): %w`, err)
	}
	return nil
}

func checkOwner(h windows.Handle, path string) error {
	sd, err := windows.GetSecurityInfo(h, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("reading the owner of %s: %w", path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("reading the owner of %s: %w", path, err)
	}
	if owner.IsWellKnown(windows.WinLocalSystemSid) || owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) ||
		owner.String() == trustedInstallerSID {
		return nil
	}
	return fmt.Errorf("%s: owned by %s: %w", path, owner.String(), ErrUntrusted)
}

// trustedInstallerSID is NT SERVICE\TrustedInstaller, owner of system files.
const trustedInstallerSID = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

// dirSDDL gives SYSTEM and Administrators full control of the agent's
// directories and their contents (OICI: inherited by files and
// subdirectories) and nobody else any access; "P" protects the DACL from
// inheriting the broader %ProgramData% ACL, which lets Users create files.
const dirSDDL = "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

// ensureDir creates dir and restricts it.
func ensureDir(dir string, _ os.FileMode) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: exists and is not a directory: %w", dir, ErrUntrusted)
	}
	return restrictDir(dir)
}

// restrictDir applies dirSDDL with SetNamedSecurityInfo (the x/sys/windows
// security API, not icacls: no command to resolve or parse).
func restrictDir(dir string) error {
	sd, err := windows.SecurityDescriptorFromString(dirSDDL)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return err
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		owner, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("restricting access to %s: %w", dir, err)
	}
	return nil
}
