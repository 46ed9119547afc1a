package linux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// sysBlockDev describes one block device for buildSysfs. The tree it builds
// follows the kernel's layout (Documentation/ABI/stable/sysfs-block,
// sysfs-rules.rst): the device directory under sys/devices (virtual/block
// for dm devices, below the controller for disks, a partition inside its
// disk's directory), with symlinks sys/dev/block/MAJ:MIN, sys/class/block/NAME
// and sys/block/NAME (whole disks and dm only) pointing at it, and each
// slaves/ entry a symlink to the lower device's directory.
type sysBlockDev struct {
	name, majMin string
	parent       string   // disk of a partition
	dmName, uuid string   // device-mapper devices
	slaves       []string // names of lower devices
}

func sysDevDir(devs map[string]sysBlockDev, name string) string {
	d := devs[name]
	switch {
	case d.uuid != "":
		return "sys/devices/virtual/block/" + name
	case d.parent != "":
		return sysDevDir(devs, d.parent) + "/" + name
	}
	return "sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/" + name
}

func buildSysfs(t *testing.T, root string, list []sysBlockDev) {
	t.Helper()
	devs := map[string]sysBlockDev{}
	for _, d := range list {
		devs[d.name] = d
	}
	link := func(target, at string) {
		abs := filepath.Join(root, at)
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(filepath.Dir(abs), filepath.Join(root, target))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(rel, abs); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range list {
		dir := sysDevDir(devs, d.name)
		maj, min, _ := strings.Cut(d.majMin, ":")
		devtype := "disk"
		if d.parent != "" {
			devtype = "partition"
			postureWriteFile(t, root, dir+"/partition", "3\n")
		}
		postureWriteFile(t, root, dir+"/dev", d.majMin+"\n")
		postureWriteFile(t, root, dir+"/uevent", "MAJOR="+maj+"\nMINOR="+min+"\nDEVNAME="+d.name+"\nDEVTYPE="+devtype+"\n")
		if d.uuid != "" {
			postureWriteFile(t, root, dir+"/dm/name", d.dmName+"\n")
			postureWriteFile(t, root, dir+"/dm/uuid", d.uuid+"\n")
		}
		if err := os.MkdirAll(filepath.Join(root, dir, "slaves"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range d.slaves {
			link(sysDevDir(devs, s), dir+"/slaves/"+s)
		}
		link(dir, "sys/dev/block/"+d.majMin)
		link(dir, "sys/class/block/"+d.name)
		if d.parent == "" {
			link(dir, "sys/block/"+d.name)
		}
	}
}

// mountinfo lines in the proc(5) format, as on Debian 12.
func mountLine(id int, majMin, mp, fstype, source string) string {
	return strings.Join([]string{itoa(id), "1", majMin, "/", mp, "rw,relatime", "shared:1", "-", fstype, source, "rw"}, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

const swapsHeader = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

var (
	nvmeDisk = sysBlockDev{name: "nvme0n1", majMin: "259:0"}
	nvmeP1   = sysBlockDev{name: "nvme0n1p1", majMin: "259:1", parent: "nvme0n1"}
	nvmeP2   = sysBlockDev{name: "nvme0n1p2", majMin: "259:2", parent: "nvme0n1"}
	nvmeP3   = sysBlockDev{name: "nvme0n1p3", majMin: "259:3", parent: "nvme0n1"}
	// cryptsetup's dm uuid: CRYPT-<type>-<uuid without dashes>-<name>.
	luksRoot = sysBlockDev{name: "dm-0", majMin: "254:0", dmName: "nvme0n1p3_crypt", uuid: "CRYPT-LUKS2-0b5e8cd2a1f34c5a9e0e1f2d3c4b5a69-nvme0n1p3_crypt", slaves: []string{"nvme0n1p3"}}
	lvRoot   = sysBlockDev{name: "dm-1", majMin: "254:1", dmName: "vg-root", uuid: "LVM-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", slaves: []string{"dm-0"}}
	lvSwap   = sysBlockDev{name: "dm-2", majMin: "254:2", dmName: "vg-swap_1", uuid: "LVM-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQq3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", slaves: []string{"dm-0"}}
	plainSwp = sysBlockDev{name: "dm-3", majMin: "254:3", dmName: "cryptswap", uuid: "CRYPT-PLAIN-cryptswap", slaves: []string{"nvme0n1p2"}}
)

func TestDiskEncryption(t *testing.T) {
	yes, no := policy.Yes, policy.No
	tests := []struct {
		name   string
		devs   []sysBlockDev
		mounts []string
		swaps  string
		want   []policy.Volume
	}{
		{
			name:   "plain ext4",
			devs:   []sysBlockDev{nvmeDisk, nvmeP1, nvmeP2},
			mounts: []string{mountLine(1, "259:2", "/", "ext4", "/dev/nvme0n1p2"), mountLine(2, "259:1", "/boot/efi", "vfat", "/dev/nvme0n1p1")},
			want:   []policy.Volume{{Mount: "/", Device: "/dev/nvme0n1p2", Encrypted: no, Source: "/sys/dev/block/259:2 (no dm-crypt layer)"}},
		},
		{
			name:   "LUKS2 root",
			devs:   []sysBlockDev{nvmeDisk, nvmeP3, luksRoot},
			mounts: []string{mountLine(1, "254:0", "/", "ext4", "/dev/mapper/nvme0n1p3_crypt")},
			want:   []policy.Volume{{Mount: "/", Device: "/dev/mapper/nvme0n1p3_crypt", Encrypted: yes, Method: "LUKS2", Source: "/sys/dev/block/254:0/dm/uuid"}},
		},
		{
			name:   "LVM on LUKS with swap on the same volume group",
			devs:   []sysBlockDev{nvmeDisk, nvmeP3, luksRoot, lvRoot, lvSwap},
			mounts: []string{mountLine(1, "254:1", "/", "ext4", "/dev/mapper/vg-root")},
			swaps:  swapsHeader + "/dev/dm-2                               partition\t999420\t\t0\t\t-2\n",
			want: []policy.Volume{
				{Mount: "/", Device: "/dev/mapper/vg-root", Encrypted: yes, Method: "LVM-on-LUKS2", Source: "/sys/class/block/dm-0/dm/uuid"},
				{Mount: "swap", Device: "/dev/mapper/vg-swap_1", Encrypted: yes, Method: "LVM-on-LUKS2", Source: "/sys/class/block/dm-0/dm/uuid"},
			},
		},
		{
			name:   "LUKS root with unencrypted /home",
			devs:   []sysBlockDev{nvmeDisk, nvmeP2, nvmeP3, luksRoot},
			mounts: []string{mountLine(1, "254:0", "/", "ext4", "/dev/mapper/nvme0n1p3_crypt"), mountLine(2, "259:2", "/home", "ext4", "/dev/nvme0n1p2")},
			want: []policy.Volume{
				{Mount: "/", Device: "/dev/mapper/nvme0n1p3_crypt", Encrypted: yes, Method: "LUKS2", Source: "/sys/dev/block/254:0/dm/uuid"},
				{Mount: "/home", Device: "/dev/nvme0n1p2", Encrypted: no, Source: "/sys/dev/block/259:2 (no dm-crypt layer)"},
			},
		},
		{
			name:   "encrypted root with unencrypted swap partition and a random-key swap",
			devs:   []sysBlockDev{nvmeDisk, nvmeP1, nvmeP2, nvmeP3, luksRoot, plainSwp},
			mounts: []string{mountLine(1, "254:0", "/", "ext4", "/dev/mapper/nvme0n1p3_crypt")},
			swaps:  swapsHeader + "/dev/nvme0n1p1                          partition\t999420\t\t0\t\t-2\n/dev/dm-3                               partition\t999420\t\t0\t\t-3\n/dev/zram0                              partition\t4046844\t\t0\t\t100\n",
			want: []policy.Volume{
				{Mount: "/", Device: "/dev/mapper/nvme0n1p3_crypt", Encrypted: yes, Method: "LUKS2", Source: "/sys/dev/block/254:0/dm/uuid"},
				{Mount: "swap", Device: "/dev/nvme0n1p1", Encrypted: no, Source: "/sys/class/block/nvme0n1p1 (no dm-crypt layer)"},
				{Mount: "swap", Device: "/dev/mapper/cryptswap", Encrypted: yes, Method: "dm-crypt plain", Source: "/sys/class/block/dm-3/dm/uuid"},
			},
		},
		{
			name:   "btrfs subvolume root on LUKS (anonymous device number)",
			devs:   []sysBlockDev{nvmeDisk, nvmeP3, luksRoot},
			mounts: []string{mountLine(1, "0:27", "/", "btrfs", "/dev/mapper/nvme0n1p3_crypt")},
			swaps:  swapsHeader + "/swap/swapfile                          file\t\t999420\t\t0\t\t-2\n",
			want: []policy.Volume{
				{Mount: "/", Device: "/dev/mapper/nvme0n1p3_crypt", Encrypted: yes, Method: "LUKS2", Source: "/sys/class/block/dm-0/dm/uuid"},
				{Mount: "swap", Device: "/swap/swapfile", Encrypted: yes, Method: "swap file on LUKS2", Source: "/sys/class/block/dm-0/dm/uuid"},
			},
		},
		{
			name:   "overlay root is unknown",
			mounts: []string{mountLine(1, "0:52", "/", "overlay", "overlay")},
			want:   []policy.Volume{{Mount: "/", Device: "overlay", Encrypted: policy.Unknown, Reason: "/ is on overlay (overlay), not a block device"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			buildSysfs(t, root, tt.devs)
			postureWriteFile(t, root, "proc/self/mountinfo", strings.Join(tt.mounts, "\n")+"\n")
			if tt.swaps != "" {
				postureWriteFile(t, root, "proc/swaps", tt.swaps)
			}
			got := diskEncryption(context.Background(), postureHost(t, root), nil)
			if diff := cmp.Diff(tt.want, got.Volumes); diff != "" {
				t.Errorf("volumes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiskEncryptionNoMountinfo(t *testing.T) {
	got := diskEncryption(context.Background(), postureHost(t, t.TempDir()), nil)
	if len(got.Volumes) != 1 || got.Volumes[0].Encrypted != policy.Unknown || got.Reason == "" {
		t.Errorf("got %+v; want one unknown root volume with a reason", got)
	}
}

func TestDiskEncryptionZFSAndHomed(t *testing.T) {
	root := t.TempDir()
	postureWriteFile(t, root, "proc/self/mountinfo", mountLine(1, "0:24", "/", "zfs", "rpool/ROOT/debian")+"\n")
	postureWriteFile(t, root, "home/alice.home", "")
	h := postureHost(t, root)
	run := platformtest.NewFakeRunner().Set("zfs get -H -o value encryption rpool/ROOT/debian", "aes-256-gcm\n")
	h.Run = run
	users := []policy.User{{Name: "alice", UID: "60001", Home: "/home/alice"}}
	got := diskEncryption(context.Background(), h, users)
	want := []policy.Volume{
		{Mount: "/", Device: "rpool/ROOT/debian", Encrypted: policy.Yes, Method: "ZFS native (aes-256-gcm)", Source: "zfs get encryption rpool/ROOT/debian"},
		{Mount: "/home/alice", Device: "/home/alice.home", Encrypted: policy.Yes, Method: "systemd-homed LUKS image", Source: "/home/alice.home (not mounted: user not logged in)"},
	}
	if diff := cmp.Diff(want, got.Volumes); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	h.Run = platformtest.NewFakeRunner().SetErr("zfs get -H -o value encryption rpool/ROOT/debian", "", errors.New("exit status 1"))
	if v := diskEncryption(context.Background(), h, nil).Volumes[0]; v.Encrypted != policy.Unknown || v.Reason == "" {
		t.Errorf("failing zfs: %+v; want unknown", v)
	}
	h.Run = nil
	if v := diskEncryption(context.Background(), h, nil).Volumes[0]; v.Encrypted != policy.Unknown {
		t.Errorf("no runner: %+v; want unknown", v)
	}
}

func TestParseMountinfoEscapes(t *testing.T) {
	got, err := parseMountinfo([]byte("36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountEntry{{majMin: "98:0", mountPoint: "/mnt/my disk", fsType: "ext3", source: "/dev/root"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(mountEntry{})); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, err := parseMountinfo([]byte("garbage line\n")); err == nil {
		t.Error("garbage parsed")
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add([]byte("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"))
	f.Add([]byte("1 1 0:27 / / rw - btrfs /dev/mapper/x rw\n2 1 8:1 / /b\\134c rw - ext4 /dev/sda1 rw"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseMountinfo(b)
		_ = parseSwaps(b)
		_ = unescapeOctal(string(b))
	})
}
