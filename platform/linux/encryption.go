package linux

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Disk encryption is read without libcryptsetup or root-only ioctls
// (docs/posture-detection.md): proc/self/mountinfo (proc(5)) gives the major:minor of the
// device behind "/" and "/home", proc/swaps the swap devices;
// sys/dev/block/MAJ:MIN links to the device's sysfs directory
// (sysfs-rules.rst, Documentation/ABI/stable/sysfs-block). A device-mapper
// device has dm/uuid, which cryptsetup sets to "CRYPT-<TYPE>-<uuid>-<name>"
// (cryptsetup lib/utils_devpath.c / lib/libdevmapper.c: CRYPT-LUKS1,
// CRYPT-LUKS2, CRYPT-PLAIN, CRYPT-BITLK, ...); LVM sets "LVM-<vg><lv>".
// slaves/ lists the devices a dm or md device sits on; following it finds a
// crypt layer below LVM (LVM on LUKS). sysfs is kernel-owned, so following
// its symlinks is safe.

const (
	mountinfoFile = "proc/self/mountinfo"
	swapsFile     = "proc/swaps"
	sysDevBlock   = "sys/dev/block"
	sysClassBlock = "sys/class/block"
	sysBlock      = "sys/block"
	// maxStackDepth bounds slaves/ recursion (real stacks are 2-4 deep).
	maxStackDepth = 16
)

// mountEntry is one proc/self/mountinfo line.
type mountEntry struct {
	majMin, mountPoint, fsType, source string
}

// parseMountinfo parses proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw
// master:1 - ext3 /dev/root rw" (proc(5)): field 3 is major:minor, field 5
// the mount point (octal-escaped), and after the "-" separator come the
// filesystem type and the source.
func parseMountinfo(b []byte) ([]mountEntry, error) {
	var out []mountEntry
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 7 || sep < 0 || sep+2 >= len(f) || !strings.Contains(f[2], ":") {
			return nil, errors.New("malformed mountinfo line")
		}
		out = append(out, mountEntry{
			majMin:     f[2],
			mountPoint: unescapeOctal(f[4]),
			fsType:     f[sep+1],
			source:     unescapeOctal(f[sep+2]),
		})
	}
	if len(out) == 0 {
		return nil, errors.New("empty mountinfo")
	}
	return out, nil
}

// unescapeOctal undoes the kernel's \040-style escaping of spaces, tabs,
// newlines and backslashes in mount points and swap file names.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// swapEntry is one proc/swaps line.
type swapEntry struct {
	name, typ string
}

// parseSwaps parses proc/swaps ("Filename Type Size Used Priority" header,
// then one line per swap area).
func parseSwaps(b []byte) []swapEntry {
	var out []swapEntry
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 2 {
			continue
		}
		out = append(out, swapEntry{name: unescapeOctal(f[0]), typ: f[1]})
	}
	return out
}

// encProbe classifies block devices through sysfs.
type encProbe struct {
	ctx context.Context
	h   *platform.Host
}

// blockResult is the classification of one device stack.
type blockResult struct {
	encrypted policy.Tri
	method    string
	device    string
	source    string
	reason    string
}

// diskEncryption reports "/", a separate "/home", swap, and mounted or
// image-backed systemd-homed homes.
func diskEncryption(ctx context.Context, h *platform.Host, users []policy.User) policy.DiskEncryption {
	p := &encProbe{ctx: ctx, h: h}
	b, err := platform.ReadFile(h.Root, mountinfoFile, platform.MaxConfigSize*8)
	var mounts []mountEntry
	if err == nil {
		mounts, err = parseMountinfo(b)
	}
	if err != nil {
		reason := fmt.Sprintf("mount table /%s not read: %v", mountinfoFile, err)
		return policy.DiskEncryption{
			Volumes: []policy.Volume{{Mount: "/", Encrypted: policy.Unknown, Reason: reason}},
			Reason:  reason,
		}
	}
	var out policy.DiskEncryption
	top := func(mp string) (mountEntry, bool) {
		var m mountEntry
		found := false
		for _, e := range mounts {
			if e.mountPoint == mp {
				m, found = e, true // later entries are mounted over earlier ones
			}
		}
		return m, found
	}
	if m, ok := top("/"); ok {
		out.Volumes = append(out.Volumes, p.volume("/", m))
	} else {
		out.Volumes = append(out.Volumes, policy.Volume{Mount: "/", Encrypted: policy.Unknown, Reason: "no mount for / in /" + mountinfoFile})
	}
	if m, ok := top("/home"); ok {
		out.Volumes = append(out.Volumes, p.volume("/home", m))
	}
	for _, u := range users {
		out.Volumes = append(out.Volumes, p.homedVolumes(u, top)...)
	}
	out.Volumes = append(out.Volumes, p.swapVolumes(mounts)...)
	return out
}

// volume classifies one mount.
func (p *encProbe) volume(mp string, m mountEntry) policy.Volume {
	v := policy.Volume{Mount: mp, Device: m.source}
	var r blockResult
	switch {
	case m.fsType == "zfs":
		r = p.zfs(m.source)
	case m.fsType == "ecryptfs":
		r = blockResult{encrypted: policy.Yes, method: "eCryptfs", source: "/" + mountinfoFile + " (fstype ecryptfs)"}
	case strings.HasPrefix(m.majMin, "0:"):
		// Anonymous device numbers: btrfs subvolumes, overlay, tmpfs. A
		// btrfs source still names its block device.
		if strings.HasPrefix(m.source, "/dev/") {
			r = p.classifyDevName(m.source)
		} else {
			r = blockResult{reason: fmt.Sprintf("%s is on %s (%s), not a block device", mp, m.fsType, m.source)}
		}
	default:
		r = p.classify(path.Join(sysDevBlock, m.majMin), 0)
	}
	return r.apply(v)
}

func (r blockResult) apply(v policy.Volume) policy.Volume {
	v.Encrypted, v.Method, v.Source, v.Reason = r.encrypted, r.method, r.source, r.reason
	if r.device != "" {
		v.Device = r.device
	}
	return v
}

// homedVolumes reports a systemd-homed home: mounted (its own mount), or
// at rest as a LUKS image /home/<user>.home (homectl(1): storage=luks keeps
// the home in an image file; directory/subvolume/fscrypt use <user>.homedir).
func (p *encProbe) homedVolumes(u policy.User, top func(string) (mountEntry, bool)) []policy.Volume {
	if u.Home == "" || u.Home == "/home" || u.Name == "" || strings.ContainsAny(u.Name, "/\x00") {
		return nil
	}
	if m, ok := top(path.Clean(u.Home)); ok {
		return []policy.Volume{p.volume(path.Clean(u.Home), m)}
	}
	img := path.Join("home", u.Name+".home")
	st, err := platform.Lstat(p.h.Root, img)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	return []policy.Volume{{
		Mount: path.Clean(u.Home), Device: "/" + img, Encrypted: policy.Yes,
		Method: "systemd-homed LUKS image", Source: "/" + img + " (not mounted: user not logged in)",
	}}
}

// swapVolumes classifies active swap areas. zram swap lives in memory only
// and is skipped; a swap file inherits its filesystem's encryption.
func (p *encProbe) swapVolumes(mounts []mountEntry) []policy.Volume {
	b, err := platform.ReadFile(p.h.Root, swapsFile, platform.MaxConfigSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return []policy.Volume{{Mount: "swap", Encrypted: policy.Unknown, Reason: fmt.Sprintf("/%s not read: %v", swapsFile, err)}}
	}
	var out []policy.Volume
	for _, s := range parseSwaps(b) {
		if strings.HasPrefix(path.Base(s.name), "zram") {
			continue
		}
		v := policy.Volume{Mount: "swap", Device: s.name}
		if s.typ == "file" {
			m, ok := containingMount(mounts, s.name)
			if !ok {
				v.Reason = "no mount contains the swap file"
				out = append(out, v)
				continue
			}
			fv := p.volume(m.mountPoint, m)
			v.Encrypted, v.Method, v.Source, v.Reason = fv.Encrypted, fv.Method, fv.Source, fv.Reason
			if v.Method != "" {
				v.Method = "swap file on " + v.Method
			}
			out = append(out, v)
			continue
		}
		out = append(out, p.classifyDevName(s.name).apply(v))
	}
	return out
}

func containingMount(mounts []mountEntry, file string) (mountEntry, bool) {
	var best mountEntry
	found := false
	for _, m := range mounts {
		mp := m.mountPoint
		if mp == "/" || file == mp || strings.HasPrefix(file, strings.TrimSuffix(mp, "/")+"/") {
			if !found || len(mp) >= len(best.mountPoint) {
				best, found = m, true
			}
		}
	}
	return best, found
}

// classifyDevName resolves "/dev/dm-1", "/dev/sda2" or "/dev/mapper/NAME".
func (p *encProbe) classifyDevName(dev string) blockResult {
	if name, ok := strings.CutPrefix(dev, "/dev/mapper/"); ok {
		entries, err := fs.ReadDir(p.h.Root, sysBlock)
		if err != nil {
			return blockResult{reason: fmt.Sprintf("/%s not readable: %v", sysBlock, err)}
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "dm-") {
				continue
			}
			b, err := platform.ReadFile(p.h.Root, path.Join(sysBlock, e.Name(), "dm/name"), 4096)
			if err == nil && strings.TrimSpace(string(b)) == name {
				return p.classify(path.Join(sysClassBlock, e.Name()), 0)
			}
		}
		return blockResult{reason: dev + " not found in /" + sysBlock}
	}
	base := path.Base(dev)
	if !strings.HasPrefix(dev, "/dev/") || base == "." || base == ".." {
		return blockResult{reason: dev + " is not a block device path"}
	}
	return p.classify(path.Join(sysClassBlock, base), 0)
}

// classify walks one sysfs block device directory and what it sits on.
func (p *encProbe) classify(dir string, depth int) blockResult {
	if depth > maxStackDepth {
		return blockResult{reason: "device stack deeper than expected"}
	}
	if _, err := fs.Stat(p.h.Root, dir); err != nil {
		return blockResult{reason: fmt.Sprintf("/%s not found: %v", dir, err)}
	}
	uuid, isDM, err := p.readSys(dir, "dm/uuid")
	if err != nil {
		return blockResult{reason: fmt.Sprintf("/%s/dm/uuid not read: %v", dir, err)}
	}
	dev := p.devName(dir, isDM)
	if isDM && strings.HasPrefix(uuid, "CRYPT-") {
		kind, _, _ := strings.Cut(strings.TrimPrefix(uuid, "CRYPT-"), "-")
		method := "dm-crypt " + kind
		switch kind {
		case "LUKS1", "LUKS2":
			method = kind
		case "PLAIN":
			method = "dm-crypt plain"
		case "SUBDEV":
			// dm-integrity below a LUKS2 device: not encryption itself.
			return p.below(dir, depth, dev, "")
		}
		return blockResult{encrypted: policy.Yes, method: method, device: dev, source: "/" + dir + "/dm/uuid"}
	}
	if _, isLoop, _ := p.readSys(dir, "loop/backing_file"); isLoop {
		return blockResult{device: dev, reason: dev + " is a loop device backed by a file; its encryption is not followed"}
	}
	prefix := ""
	if isDM && strings.HasPrefix(uuid, "LVM-") {
		prefix = "LVM-on-"
	}
	return p.below(dir, depth, dev, prefix)
}

// below classifies the devices under dir's slaves/; a device without any is
// a plain disk or partition.
func (p *encProbe) below(dir string, depth int, dev, prefix string) blockResult {
	entries, err := fs.ReadDir(p.h.Root, path.Join(dir, "slaves"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return blockResult{device: dev, reason: fmt.Sprintf("/%s/slaves not read: %v", dir, err)}
	}
	if len(entries) == 0 {
		return blockResult{encrypted: policy.No, device: dev, source: "/" + dir + " (no dm-crypt layer)"}
	}
	res := blockResult{encrypted: policy.Yes, device: dev}
	var methods, sources []string
	for _, e := range entries {
		r := p.classify(path.Join(sysClassBlock, e.Name()), depth+1)
		switch r.encrypted {
		case policy.No:
			return blockResult{encrypted: policy.No, device: dev, source: r.source}
		case policy.Unknown:
			res.encrypted, res.reason = policy.Unknown, r.reason
		}
		if !containsString(methods, r.method) && r.method != "" {
			methods = append(methods, r.method)
		}
		sources = append(sources, r.source)
	}
	if res.encrypted == policy.Yes {
		res.method = prefix + strings.Join(methods, "+")
		res.source = strings.Join(sources, ", ")
	}
	return res
}

// readSys reads a small sysfs attribute; ok is false when it is absent.
func (p *encProbe) readSys(dir, attr string) (string, bool, error) {
	b, err := platform.ReadFile(p.h.Root, path.Join(dir, attr), 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(string(b)), true, nil
}

// devName names a device: /dev/mapper/<dm name> or /dev/<kernel name>.
func (p *encProbe) devName(dir string, isDM bool) string {
	if isDM {
		if n, ok, _ := p.readSys(dir, "dm/name"); ok && n != "" {
			return "/dev/mapper/" + n
		}
	}
	if uevent, ok, _ := p.readSys(dir, "uevent"); ok {
		for _, line := range strings.Split(uevent, "\n") {
			if n, ok := strings.CutPrefix(line, "DEVNAME="); ok {
				return "/dev/" + n
			}
		}
	}
	return ""
}

// zfs asks `zfs get` for a dataset's encryption property (zfsprops(7):
// "off" or the cipher; children inherit it). Without a runner it is unknown.
func (p *encProbe) zfs(dataset string) blockResult {
	if dataset == "" || strings.HasPrefix(dataset, "-") {
		return blockResult{reason: "invalid ZFS dataset name"}
	}
	out, err := p.h.Output(p.ctx, "zfs", "get", "-H", "-o", "value", "encryption", dataset)
	if err != nil {
		return blockResult{reason: fmt.Sprintf("ZFS dataset %s: `zfs get encryption` failed: %v", dataset, err)}
	}
	val := strings.TrimSpace(string(out))
	switch {
	case val == "off":
		return blockResult{encrypted: policy.No, source: "zfs get encryption " + dataset}
	case strings.HasPrefix(val, "aes-"):
		return blockResult{encrypted: policy.Yes, method: "ZFS native (" + val + ")", source: "zfs get encryption " + dataset}
	}
	return blockResult{reason: "unexpected `zfs get encryption` output"}
}
