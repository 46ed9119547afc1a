package linux

import (
	"errors"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"go.yaml.in/yaml/v3"
)

const (
	snapMountDir = "snap"
	snapBlobDir  = "var/lib/snapd/snaps"
	// maxSnapYAML caps meta/snap.yaml (a few kilobytes in practice).
	maxSnapYAML = 256 << 10
)

// scanSnaps finds catalog snaps. snapd mounts each installed revision at
// /snap/<name>/<revision> and points /snap/<name>/current at the active one
// (snapd's "snap mount dir"); the version is in that revision's
// meta/snap.yaml. When /snap is not mounted (an offline root) the
// downloaded blobs /var/lib/snapd/snaps/<name>_<revision>.snap still show
// the snap, without a version. A directory that exists but cannot be
// listed is a Problem.
func (c *collector) scanSnaps() {
	found := map[string]bool{}
	entries, _, err := c.list(snapMountDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.problem("snap", snapMountDir, "snap mount directory not read: "+describeErr(err))
	}
	if err == nil {
		for _, de := range entries {
			if !de.IsDir() {
				continue
			}
			e, _ := c.idx.snapEntry(de.Name())
			if e == nil {
				continue
			}
			found[de.Name()] = true
			c.add(e, sourceSnap, "", c.snapVersion(de.Name()), "/"+snapMountDir+"/"+de.Name())
		}
	}
	c.scanSnapBlobs(found)
}

// snapVersion reads the active revision's version, or "" when it cannot.
func (c *collector) snapVersion(instance string) string {
	dir := snapMountDir + "/" + instance
	rev, err := fs.ReadLink(c.fsys, dir+"/current")
	if err != nil || !singleComponent(rev) {
		return ""
	}
	b, err := platform.ReadFile(c.fsys, dir+"/"+rev+"/meta/snap.yaml", maxSnapYAML)
	if err != nil {
		return ""
	}
	meta, err := parseSnapYAML(b)
	if err != nil {
		return ""
	}
	return meta.Version
}

// scanSnapBlobs adds snaps that only have a blob, picking the highest
// numeric revision per instance.
func (c *collector) scanSnapBlobs(found map[string]bool) {
	entries, _, err := c.list(snapBlobDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.problem("snap", snapBlobDir, "snap blob directory not read: "+describeErr(err))
		}
		return
	}
	best := map[string]string{} // instance → file name
	bestRev := map[string]int{}
	for _, de := range entries {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasSuffix(name, ".snap") {
			continue
		}
		i := strings.LastIndexByte(name, '_')
		if i <= 0 {
			continue
		}
		instance := name[:i]
		if found[instance] {
			continue
		}
		if e, _ := c.idx.snapEntry(instance); e == nil {
			continue
		}
		// Store revisions are numbers; locally installed ones are "x1".
		rev, err := strconv.Atoi(strings.TrimSuffix(name[i+1:], ".snap"))
		if err != nil {
			rev = -1
		}
		if _, ok := best[instance]; !ok || rev > bestRev[instance] {
			best[instance], bestRev[instance] = name, rev
		}
	}
	for instance, file := range best {
		e, _ := c.idx.snapEntry(instance)
		c.add(e, sourceSnap, "", "", "/"+path.Join(snapBlobDir, file))
	}
}

// snapMeta is the part of meta/snap.yaml the inventory needs.
type snapMeta struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
}

// parseSnapYAML parses a snap's meta/snap.yaml (the file snapcraft
// generates from snapcraft.yaml; snapd reads name and version from it).
func parseSnapYAML(b []byte) (snapMeta, error) {
	var m snapMeta
	err := yaml.Unmarshal(b, &m)
	return m, err
}

// singleComponent reports whether s is one plain path element (a link
// target that stays in its directory).
func singleComponent(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}
