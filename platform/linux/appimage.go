package linux

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// appImageDirs are the places below a home where people keep AppImages:
// there is no install location (AppImage documentation, "Integrating
// AppImages into the desktop"), so the common ones are listed, without a
// deep walk. "." is the home itself.
func appImageDirs() []string {
	return []string{".", "Applications", "Downloads", ".local/bin", "bin", "AppImages"}
}

// scanUserAppImages matches file names in the usual AppImage directories of
// one home against the catalog's patterns. AppImages are never opened,
// read or executed: the name is the only evidence.
func (c *collector) scanUserAppImages(ctx context.Context, v *homeView) {
	if len(c.idx.appImage) == 0 {
		return
	}
	for _, d := range appImageDirs() {
		if ctx.Err() != nil {
			return
		}
		dir := v.rel
		if d != "." {
			dir += "/" + d
			if err := v.plainDir(dir); err != nil {
				if unreadable(err) {
					c.problem("appimage", dir, "directory not read: "+describeErr(err))
				}
				continue // missing, or a linked ~/Downloads: not followed
			}
		}
		c.scanAppImageDir(dir, v)
	}
}

func (c *collector) scanAppImageDir(dir string, v *homeView) {
	entries, truncated, err := v.list(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.problem("appimage", dir, "directory not read: "+describeErr(err))
		}
		return
	}
	if truncated {
		c.problem("appimage", dir, fmt.Sprintf("more than %d entries; the rest were not looked at", c.maxEntries))
	}
	for _, de := range entries {
		// Only regular files: a link named Signal.AppImage proves nothing
		// and a FIFO is not an application.
		if !de.Type().IsRegular() {
			continue
		}
		if e := c.idx.matchAppImage(de.Name()); e != nil {
			c.add(e, sourceAppImage, v.user, "", "/"+dir+"/"+de.Name())
		}
	}
}
