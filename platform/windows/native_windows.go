//go:build windows

package windows

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// rootKey maps a short root name to its predefined handle.
func rootKey(name string) registry.Key {
	switch name {
	case "HKLM":
		return registry.LOCAL_MACHINE
	case "HKU":
		return registry.USERS
	case "HKCU":
		return registry.CURRENT_USER
	case "HKCR":
		return registry.CLASSES_ROOT
	default:
		return registry.CURRENT_CONFIG
	}
}

func openKey(path string, access uint32) (registry.Key, error) {
	root, parts, err := splitPath(path)
	if err != nil {
		return 0, err
	}
	k, err := registry.OpenKey(rootKey(root), joinKey(parts...), access|registry.WOW64_64KEY)
	if err != nil {
		// ERROR_FILE_NOT_FOUND matches fs.ErrNotExist (syscall.Errno.Is).
		return 0, &fs.PathError{Op: "open key", Path: path, Err: err}
	}
	return k, nil
}

// SubKeys implements Registry.
func (*NativeRegistry) SubKeys(path string) ([]string, error) {
	k, err := openKey(path, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(MaxSubKeys + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return names, fmt.Errorf("enumerate %s: %w", path, err)
	}
	if len(names) > MaxSubKeys {
		return names[:MaxSubKeys], fmt.Errorf("%s: %w", path, ErrTruncated)
	}
	return names, nil
}

// Values implements Registry. Values larger than MaxValueSize are left out:
// nothing the probes read is that large.
func (*NativeRegistry) Values(path string) (map[string]Value, error) {
	k, err := openKey(path, registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(MaxValues + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("enumerate values of %s: %w", path, err)
	}
	var truncated error
	if len(names) > MaxValues {
		names, truncated = names[:MaxValues], fmt.Errorf("%s: %w", path, ErrTruncated)
	}
	out := make(map[string]Value, len(names))
	for _, name := range names {
		if v, ok := readValue(k, name); ok {
			out[name] = v
		}
	}
	return out, truncated
}

// readValue reads one value, refusing data over MaxValueSize. A value that
// vanishes or grows between the size query and the read is skipped.
func readValue(k registry.Key, name string) (Value, bool) {
	n, typ, err := k.GetValue(name, nil)
	if err != nil || n > MaxValueSize {
		return Value{}, false
	}
	if n == 0 {
		return decodeValue(ValueType(typ), nil), true
	}
	buf := make([]byte, n)
	n, typ, err = k.GetValue(name, buf)
	if err != nil {
		return Value{}, false
	}
	return decodeValue(ValueType(typ), buf[:n]), true
}

// LoadHive implements HiveLoader with RegLoadKeyW under
// HKEY_USERS\msgguard_<sid>. Windows itself refuses to load a hive that is
// in use (the user is logged in), so a loaded hive is only ever read through
// HKU\<SID>. The hive stays mounted only while the caller reads it: while
// mounted, the user cannot log on (their profile would be loaded as a
// temporary one), so callers unload right after the per-user reads.
func (*NativeRegistry) LoadHive(sid, file string) (string, func() error, error) {
	if err := enablePrivileges("SeBackupPrivilege", "SeRestorePrivilege"); err != nil {
		return "", nil, fmt.Errorf("load hive %s: %w", file, err)
	}
	advapi := windows.NewLazySystemDLL("advapi32.dll")
	load, unloadProc := advapi.NewProc("RegLoadKeyW"), advapi.NewProc("RegUnLoadKeyW")
	name := mountName(sid)
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return "", nil, err
	}
	file16, err := windows.UTF16PtrFromString(file)
	if err != nil {
		return "", nil, err
	}
	// A previous run that died while a hive was mounted leaves the mount
	// behind; drop it first (an error here just means there was none).
	unloadProc.Call(uintptr(windows.HKEY_USERS), uintptr(unsafe.Pointer(name16)))
	r, _, _ := load.Call(uintptr(windows.HKEY_USERS), uintptr(unsafe.Pointer(name16)), uintptr(unsafe.Pointer(file16)))
	if r != 0 {
		return "", nil, fmt.Errorf("load hive %s: %w", file, windows.Errno(r))
	}
	unload := func() error {
		r, _, _ := unloadProc.Call(uintptr(windows.HKEY_USERS), uintptr(unsafe.Pointer(name16)))
		if r != 0 {
			return fmt.Errorf("unload hive %s: %w", file, windows.Errno(r))
		}
		return nil
	}
	return `HKU\` + name, unload, nil
}

// enablePrivileges enables privileges the process token already holds
// (SYSTEM holds SeBackup and SeRestore, disabled by default).
func enablePrivileges(names ...string) error {
	proc := windows.CurrentProcess()
	var tok windows.Token
	if err := windows.OpenProcessToken(proc, windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &tok); err != nil {
		return fmt.Errorf("open process token: %w", err)
	}
	defer tok.Close()
	for _, n := range names {
		var luid windows.LUID
		n16, err := windows.UTF16PtrFromString(n)
		if err != nil {
			return err
		}
		if err := windows.LookupPrivilegeValue(nil, n16, &luid); err != nil {
			return fmt.Errorf("look up %s: %w", n, err)
		}
		tp := windows.Tokenprivileges{PrivilegeCount: 1}
		tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
		if err := windows.AdjustTokenPrivileges(tok, false, &tp, 0, nil, nil); err != nil {
			return fmt.Errorf("enable %s: %w", n, err)
		}
	}
	return nil
}
