// Package benchroot writes the benchmark root: a filesystem tree shaped like
// a busy Debian desktop (5,000 dpkg packages, 50 users with homes, 300
// .desktop files, 100 Flatpaks), built from the real artefacts of the Linux
// probe's fixture. platform/linux's BenchmarkScan and the whole-process
// benchmark (bench/whole-process.sh) scan the same tree.
package benchroot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sizes of the generated root.
const (
	Packages = 5000
	Users    = 50
	Desktop  = 300 // 200 system-wide, 2 per user
	Flatpaks = 100
)

const (
	dpkgAdminDir = "var/lib/dpkg"
	dpkgStatus   = "var/lib/dpkg/status"
)

// Write writes the root into dir from the fixture tree fix (the probe's
// testdata/debian-desktop, real files): the dpkg database repeats its
// dpkg-written stanzas (renamed) up to Packages, so stanza sizes and field
// mix are those of a real Debian status file; .desktop files are the
// fixture's real ones (vim.desktop carries 5 kB of translations). It returns
// the number of messenger items a scan must find.
func Write(dir, fix string) (items int, err error) {
	w := &writer{dir: dir, fix: fix}
	items = w.write()
	return items, w.err
}

// writer keeps the first error, so that the layout below reads as a list.
type writer struct {
	dir, fix string
	err      error
}

func (w *writer) read(rel string) []byte {
	b, err := os.ReadFile(filepath.Join(w.fix, filepath.FromSlash(rel)))
	if err != nil && w.err == nil {
		w.err = err
	}
	return b
}

func (w *writer) put(rel string, b []byte) {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	w.mkdir(filepath.Dir(p))
	if err := os.WriteFile(p, b, 0o644); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) mkdir(p string) {
	if err := os.MkdirAll(p, 0o755); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) symlink(target, link string) {
	w.mkdir(filepath.Dir(link))
	if err := os.Symlink(target, link); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) write() int {
	dir := w.dir
	for _, rel := range []string{"etc/login.defs", "etc/hostname", "etc/machine-id", "usr/lib/os-release"} {
		w.put(rel, w.read(rel))
	}

	// Users.
	var passwd bytes.Buffer
	for line := range strings.Lines(string(w.read("etc/passwd"))) {
		if !strings.HasPrefix(line, "alice:") && !strings.HasPrefix(line, "bob:") && !strings.HasPrefix(line, "carol:") {
			passwd.WriteString(line) // the fixture's system accounts
		}
	}
	for i := range Users {
		fmt.Fprintf(&passwd, "user%02d:x:%d:%d:User %d,,,:/home/user%02d:/bin/bash\n", i, 2000+i, 2000+i, i, i)
	}
	w.put("etc/passwd", passwd.Bytes())

	// dpkg: the fixture's stanzas, each non-messenger one renamed per copy.
	stanzas := bytes.Split(bytes.TrimSpace(w.read(dpkgStatus)), []byte("\n\n"))
	if w.err != nil {
		return 0
	}
	var status bytes.Buffer
	for i := 0; status.Len() == 0 || i < Packages; i++ {
		s := stanzas[i%len(stanzas)]
		if i >= len(stanzas) {
			name := bytes.TrimPrefix(bytes.SplitN(s, []byte("\n"), 2)[0], []byte("Package: "))
			s = bytes.Replace(s, []byte("Package: "+string(name)), []byte(fmt.Sprintf("Package: %s-gen%d", name, i)), 1)
		}
		status.Write(s)
		status.WriteString("\n\n")
	}
	w.put(dpkgStatus, status.Bytes())
	for _, d := range []string{"info", "updates", "triggers"} {
		w.mkdir(filepath.Join(dir, dpkgAdminDir, d))
	}

	// .desktop files: 200 system-wide (the real messenger ones among them),
	// 2 per user (a WhatsApp Web PWA for every fifth user).
	vim := w.read("usr/share/applications/vim.desktop")
	for _, f := range []string{"signal-desktop.desktop", "org.telegram.desktop.desktop", "slack.desktop"} {
		w.put("usr/share/applications/"+f, w.read("usr/share/applications/"+f))
	}
	for i := 3; i < 200; i++ {
		w.put(fmt.Sprintf("usr/share/applications/app%03d.desktop", i), vim)
	}
	pwa := w.read("home/alice/.local/share/applications/chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop")
	items := 3 + 3 // signal, telegram, slack: deb and desktop
	items += 2     // element, teams-for-linux: deb
	for i := range Users {
		home := fmt.Sprintf("home/user%02d", i)
		w.put(home+"/.local/share/applications/app-a.desktop", vim)
		if i%5 == 0 {
			w.put(home+"/.local/share/applications/chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop", pwa)
			items++
		} else {
			w.put(home+"/.local/share/applications/app-b.desktop", vim)
		}
		for _, d := range []string{".config/pulse", ".config/dconf", ".config/gtk-3.0", ".cache", ".local/share/recently-used"} {
			w.mkdir(filepath.Join(dir, home, d))
		}
		if i%3 == 0 {
			w.mkdir(filepath.Join(dir, home, ".config/Signal"))
			items++
		}
		for j := range 20 {
			w.put(fmt.Sprintf("%s/Downloads/document-%02d.pdf", home, j), nil)
		}
		if i%10 == 0 {
			w.put(home+"/Applications/simplex-desktop-x86_64.AppImage", nil)
			items++
		}
	}

	// Flatpaks: 99 others plus Element, each deployed with its links.
	meta := w.read("var/lib/flatpak/app/im.riot.Riot/x86_64/stable/2d5b7c0e3f1a9b8c4d6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e/files/share/metainfo/im.riot.Riot.metainfo.xml")
	for i := range Flatpaks {
		id := fmt.Sprintf("org.example.App%03d", i)
		if i == 0 {
			id = "im.riot.Riot"
			items++
		}
		app := filepath.Join(dir, "var/lib/flatpak/app", id)
		commit := fmt.Sprintf("%064x", i+1)
		w.put(fmt.Sprintf("var/lib/flatpak/app/%s/x86_64/stable/%s/files/share/metainfo/%s.metainfo.xml", id, commit, id),
			bytes.ReplaceAll(meta, []byte("im.riot.Riot"), []byte(id)))
		w.symlink("x86_64/stable", filepath.Join(app, "current"))
		w.symlink(commit, filepath.Join(app, "x86_64", "stable", "active"))
	}
	return items
}
