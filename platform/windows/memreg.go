package windows

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// MemRegistry is an in-memory Registry built from .reg exports. Tests use it
// to replay fixture machines on any OS; it also serves offline user hives
// (AddHive) through HiveLoader, as the native registry does with
// RegLoadKey. It is safe for concurrent use.
type MemRegistry struct {
	mu    sync.RWMutex
	roots map[string]*memKey // by short root name: HKLM, HKU, ...
	hives map[string]memHive // by lower-case file path
}

type memKey struct {
	name     string
	children map[string]*memKey // by lower-case name
	values   map[string]Value
}

type memHive struct {
	data []byte
	err  error
}

// NewMemRegistry returns an empty registry with the standard root keys.
func NewMemRegistry() *MemRegistry {
	m := &MemRegistry{roots: map[string]*memKey{}, hives: map[string]memHive{}}
	for _, r := range []string{"HKLM", "HKU", "HKCU", "HKCR", "HKCC"} {
		m.roots[r] = newMemKey(r)
	}
	return m
}

func newMemKey(name string) *memKey {
	return &memKey{name: name, children: map[string]*memKey{}, values: map[string]Value{}}
}

// Load parses a .reg export and applies it (adds keys and values, performs
// deletions).
func (m *MemRegistry) Load(data []byte) error {
	f, err := ParseReg(data)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.apply(f, "")
}

// AddHive registers the .reg export of a user hive (sections under
// HKEY_CURRENT_USER, or HKEY_USERS\<anything>) as the content of the hive
// file at path, for LoadHive.
func (m *MemRegistry) AddHive(path string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hives[strings.ToLower(path)] = memHive{data: data}
}

// AddHiveError makes LoadHive of path fail with err, like a hive file that
// is locked or corrupt.
func (m *MemRegistry) AddHiveError(path string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hives[strings.ToLower(path)] = memHive{err: err}
}

// LoadHive implements HiveLoader: it mounts a hive registered with AddHive
// under HKU\msgguard_<sid>, as the native loader does.
func (m *MemRegistry) LoadHive(sid, file string) (string, func() error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hives[strings.ToLower(file)]
	switch {
	case !ok:
		return "", nil, &fs.PathError{Op: "load hive", Path: file, Err: fs.ErrNotExist}
	case h.err != nil:
		return "", nil, fmt.Errorf("load hive %s: %w", file, h.err)
	}
	f, err := ParseReg(h.data)
	if err != nil {
		return "", nil, fmt.Errorf("load hive %s: %w", file, err)
	}
	name := mountName(sid)
	if _, busy := m.roots["HKU"].children[strings.ToLower(name)]; busy {
		return "", nil, fmt.Errorf("load hive %s: HKU\\%s is already mounted", file, name)
	}
	m.roots["HKU"].child(name)
	if err := m.apply(f, name); err != nil {
		delete(m.roots["HKU"].children, strings.ToLower(name))
		return "", nil, fmt.Errorf("load hive %s: %w", file, err)
	}
	unload := func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.roots["HKU"].children, strings.ToLower(name))
		return nil
	}
	return `HKU\` + name, unload, nil
}

// mountName is the HKEY_USERS subkey a temporarily loaded hive is mounted at.
func mountName(sid string) string { return "msgguard_" + sid }

// apply adds f to the tree. With mount set, every key is re-rooted under
// HKU\<mount>: HKCU\X and HKU\<any>\X both become HKU\<mount>\X.
func (m *MemRegistry) apply(f *RegFile, mount string) error {
	for _, k := range f.Keys {
		root, parts, err := splitPath(k.Path)
		if err != nil {
			return err
		}
		if mount != "" {
			parts, err = rebase(root, parts, mount)
			if err != nil {
				return err
			}
			root = "HKU"
		}
		if k.Delete {
			m.delete(root, parts)
			continue
		}
		key := m.ensure(root, parts)
		for _, v := range k.Values {
			m.setValue(key, v)
		}
	}
	return nil
}

func rebase(root string, parts []string, mount string) ([]string, error) {
	switch {
	case root == "HKCU":
		return append([]string{mount}, parts...), nil
	case root == "HKU" && len(parts) > 0:
		return append([]string{mount}, parts[1:]...), nil
	}
	return nil, fmt.Errorf("hive export has a key outside HKEY_CURRENT_USER or HKEY_USERS")
}

func (m *MemRegistry) setValue(key *memKey, v RegValue) {
	for name := range key.values {
		if strings.EqualFold(name, v.Name) {
			delete(key.values, name)
		}
	}
	if v.Delete || valueSize(v.Value) > MaxValueSize {
		return
	}
	key.values[v.Name] = v.Value
}

// valueSize approximates the stored size of a value, to apply MaxValueSize
// as the native reader does.
func valueSize(v Value) int {
	n := 2*len(v.String) + len(v.Data)
	for _, s := range v.Strings {
		n += 2 * (len(s) + 1)
	}
	return n
}

func (k *memKey) child(name string) *memKey {
	lc := strings.ToLower(name)
	c, ok := k.children[lc]
	if !ok {
		c = newMemKey(name)
		k.children[lc] = c
	}
	return c
}

func (m *MemRegistry) ensure(root string, parts []string) *memKey {
	k := m.roots[root]
	for _, p := range parts {
		k = k.child(p)
	}
	return k
}

func (m *MemRegistry) delete(root string, parts []string) {
	if len(parts) == 0 {
		return
	}
	k := m.find(root, parts[:len(parts)-1])
	if k != nil {
		delete(k.children, strings.ToLower(parts[len(parts)-1]))
	}
}

func (m *MemRegistry) find(root string, parts []string) *memKey {
	k := m.roots[root]
	for _, p := range parts {
		if k = k.children[strings.ToLower(p)]; k == nil {
			return nil
		}
	}
	return k
}

func (m *MemRegistry) lookupKey(path string) (*memKey, error) {
	root, parts, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	k := m.find(root, parts)
	if k == nil {
		return nil, &fs.PathError{Op: "open key", Path: path, Err: fs.ErrNotExist}
	}
	return k, nil
}

// SubKeys implements Registry. Names come sorted case-insensitively, the
// order RegEnumKeyEx returns them in.
func (m *MemRegistry) SubKeys(path string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, err := m.lookupKey(path)
	if err != nil {
		return nil, err
	}
	lower := make([]string, 0, len(k.children))
	for lc := range k.children {
		lower = append(lower, lc)
	}
	sort.Strings(lower)
	names := make([]string, len(lower))
	for i, lc := range lower {
		names[i] = k.children[lc].name
	}
	if len(names) > MaxSubKeys {
		return names[:MaxSubKeys], fmt.Errorf("%s: %w", path, ErrTruncated)
	}
	return names, nil
}

// Values implements Registry.
func (m *MemRegistry) Values(path string) (map[string]Value, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, err := m.lookupKey(path)
	if err != nil {
		return nil, err
	}
	if len(k.values) > MaxValues {
		out := make(map[string]Value, MaxValues)
		for n, v := range k.values {
			if len(out) == MaxValues {
				break
			}
			out[n] = v
		}
		return out, fmt.Errorf("%s: %w", path, ErrTruncated)
	}
	return k.values, nil
}
