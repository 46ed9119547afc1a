//go:build !unix

package report

// noFollow is 0 where the platform has no O_NOFOLLOW; the output
// directories are created by the installer with administrator-only ACLs.
const noFollow = 0
