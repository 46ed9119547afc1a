//go:build !windows

package install

import "errors"

func (m *Manager) installWindows(bool) error {
	return errors.ErrUnsupported
}
