package windows

// NativeRegistry is the live registry of the Windows machine the agent runs
// on, read with RegOpenKeyEx/RegEnumKeyEx/RegQueryValueEx in the 64-bit view
// (KEY_WOW64_64KEY, so a 32-bit build sees what a 64-bit one does; the
// 32-bit view is read explicitly through WOW6432Node paths). It also
// implements HiveLoader with RegLoadKey/RegUnLoadKey, which needs the
// SeBackupPrivilege and SeRestorePrivilege that the SYSTEM account holds.
//
// On other operating systems every method returns errors.ErrUnsupported.
type NativeRegistry struct{}

// NewNativeRegistry returns the live registry.
func NewNativeRegistry() *NativeRegistry { return &NativeRegistry{} }

var (
	_ Registry   = (*NativeRegistry)(nil)
	_ HiveLoader = (*NativeRegistry)(nil)
	_ Registry   = (*MemRegistry)(nil)
	_ HiveLoader = (*MemRegistry)(nil)
)
