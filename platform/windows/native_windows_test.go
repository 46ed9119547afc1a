//go:build windows

package windows

import (
	"errors"
	"io/fs"
	"testing"
)

// TestNativeRegistry reads the live registry of the Windows machine running
// the tests (CI runners): keys every installation has.
func TestNativeRegistry(t *testing.T) {
	r := NewNativeRegistry()
	vals, err := r.Values(keyCurrentVer)
	if err != nil {
		t.Fatalf("Values(%s) error: %v", keyCurrentVer, err)
	}
	if name, ok, err := stringValue(vals, "ProductName"); !ok || err != nil || name == "" {
		t.Errorf("ProductName = %q, %v, %v; want a string", name, ok, err)
	}
	if v, ok := lookup(vals, "UBR"); ok && v.Type != REG_DWORD {
		t.Errorf("UBR type = %s; want REG_DWORD", v.Type)
	}
	subs, err := r.SubKeys(keyProfileList)
	if err != nil || len(subs) == 0 {
		t.Errorf("SubKeys(%s) = %v, %v; want the profiles", keyProfileList, subs, err)
	}
	if _, err := r.Values(`HKLM\SOFTWARE\msgguard-test-no-such-key`); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Values(missing key) error = %v; want fs.ErrNotExist", err)
	}
	if _, err := r.SubKeys("HKU"); err != nil {
		t.Errorf("SubKeys(HKU) error: %v", err)
	}
}
