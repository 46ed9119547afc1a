//go:build !windows

package windows

import "errors"

// SubKeys implements Registry; the registry exists only on Windows.
func (*NativeRegistry) SubKeys(string) ([]string, error) { return nil, errors.ErrUnsupported }

// Values implements Registry; the registry exists only on Windows.
func (*NativeRegistry) Values(string) (map[string]Value, error) { return nil, errors.ErrUnsupported }

// LoadHive implements HiveLoader; the registry exists only on Windows.
func (*NativeRegistry) LoadHive(string, string) (string, func() error, error) {
	return "", nil, errors.ErrUnsupported
}
