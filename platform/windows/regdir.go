package windows

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/msgguard/msgguard/platform"
)

// maxRegFile caps one .reg export read by LoadRegistryDir.
const maxRegFile = 64 << 20

// LoadRegistryDir builds a MemRegistry from a directory of .reg exports, the
// layout the fixtures use: every dir/*.reg is loaded (HKLM and the hives of
// logged-in users), and dir/hives/<user>.reg is served as the content of
// C:\Users\<user>\NTUSER.DAT for users who are logged off. `agent scan
// --platform windows --registry DIR` uses it to inspect a recorded machine.
func LoadRegistryDir(dir string) (*MemRegistry, error) {
	reg := NewMemRegistry()
	fsys := platform.NewDirFS(dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.reg"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .reg files in %s", dir)
	}
	for _, f := range files {
		b, err := platform.ReadFile(fsys, filepath.Base(f), maxRegFile)
		if err != nil {
			return nil, err
		}
		if err := reg.Load(b); err != nil {
			return nil, fmt.Errorf("loading %s: %w", f, err)
		}
	}
	hives, _ := filepath.Glob(filepath.Join(dir, "hives", "*.reg"))
	for _, f := range hives {
		b, err := platform.ReadFile(fsys, "hives/"+filepath.Base(f), maxRegFile)
		if err != nil {
			return nil, err
		}
		user := strings.TrimSuffix(filepath.Base(f), ".reg")
		reg.AddHive(`C:\Users\`+user+`\NTUSER.DAT`, b)
	}
	return reg, nil
}
