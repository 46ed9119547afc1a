package linux

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
)

const (
	flatpakSystemApps = "var/lib/flatpak/app"
	flatpakUserApps   = ".local/share/flatpak/app" // below a home
	// maxMetainfo caps an AppStream metainfo file (Signal's, with eight
	// years of releases, is 22 kB).
	maxMetainfo = 1 << 20
)

// scanUserFlatpaks finds catalog Flatpak apps in one home's installation
// (scanFlatpakDir(flatpakSystemApps, ...) in the system one). Layout
// (flatpak wiki "Filesystem"):
// <installation>/app/<id>/current → <arch>/<branch>, and
// <arch>/<branch>/active → <commit>, whose files/ tree holds the app.
func (c *collector) scanUserFlatpaks(v *homeView) {
	dir := v.rel + "/" + flatpakUserApps
	if err := v.plainDir(dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.problem("flatpak", dir, "per-user Flatpak installation not read: "+describeErr(err))
		}
		return
	}
	c.scanFlatpakDir(dir, v.homeDir)
}

// scanFlatpakDir scans one installation's app directory. home is empty for
// the system installation.
func (c *collector) scanFlatpakDir(dir string, home homeDir) {
	entries, _, err := c.list(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.problem("flatpak", dir, "Flatpak installation not read: "+describeErr(err))
		}
		return
	}
	for _, de := range entries {
		e := c.idx.flatpak[de.Name()]
		if e == nil || !de.IsDir() {
			continue
		}
		appDir := dir + "/" + de.Name()
		c.add(e, sourceFlatpak, home.user, c.flatpakVersion(appDir, de.Name(), home), "/"+appDir)
	}
}

// flatpakVersion follows the current and active links (reading their
// targets, never following them blindly) to the deployed commit and reads
// the version of its newest AppStream release. It returns "" when any step
// fails: the app is still reported, without a version.
func (c *collector) flatpakVersion(appDir, id string, home homeDir) string {
	cur, err := fs.ReadLink(c.fsys, appDir+"/current")
	if err != nil || !archBranch(cur) {
		return ""
	}
	active, err := fs.ReadLink(c.fsys, appDir+"/"+cur+"/active")
	if err != nil || !singleComponent(active) {
		return ""
	}
	files := appDir + "/" + cur + "/" + active + "/files/share/"
	// flatpak-builder installs the AppStream file as <id>.metainfo.xml;
	// older apps ship <id>.appdata.xml, in metainfo/ or appdata/.
	for _, name := range []string{"metainfo/" + id + ".metainfo.xml", "metainfo/" + id + ".appdata.xml", "appdata/" + id + ".appdata.xml"} {
		b, err := c.readMaybeUser(home, files+name, maxMetainfo)
		if err != nil {
			continue
		}
		if v, err := parseMetainfoVersion(b); err == nil && v != "" {
			return v
		}
	}
	return ""
}

// readMaybeUser reads a file with ReadUserFile inside a home, ReadFile
// elsewhere.
func (c *collector) readMaybeUser(home homeDir, name string, limit int64) ([]byte, error) {
	if home.rel != "" {
		return platform.ReadUserFile(c.fsys, home.rel, name, limit)
	}
	return platform.ReadFile(c.fsys, name, limit)
}

// archBranch reports whether a current link target is "<arch>/<branch>".
func archBranch(s string) bool {
	a, b, ok := strings.Cut(s, "/")
	return ok && singleComponent(a) && singleComponent(b) && path.Clean(s) == s
}

// errNoRelease is returned for an AppStream file without releases.
var errNoRelease = errors.New("no release in AppStream data")

// parseMetainfoVersion returns the version of the first <release> in an
// AppStream metainfo file. The AppStream specification asks for releases
// newest first ("Metadata: releases").
func parseMetainfoVersion(b []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, inReleases := 0, -1
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return "", errNoRelease
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case t.Name.Local == "releases" && depth == 2:
				inReleases = depth
			case t.Name.Local == "release" && inReleases > 0 && depth == inReleases+1:
				for _, a := range t.Attr {
					if a.Name.Local == "version" {
						return a.Value, nil
					}
				}
			}
		case xml.EndElement:
			if depth == inReleases {
				inReleases = -1
			}
			depth--
		}
	}
}
