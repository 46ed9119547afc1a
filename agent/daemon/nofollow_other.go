//go:build !unix

package daemon

// Windows has no O_NOFOLLOW; the log directory is ACL'd to SYSTEM and
// Administrators (install.restrictDir).
const oNoFollow = 0
