// Command package builds msgguard's Linux packages, a .deb and an .rpm:
//
//	go run ./install/package -o DIR [-version V] [-arch amd64|arm64]
//
// It builds the agent (-trimpath, CGO_ENABLED=0, the version stamped into
// agent/version) and packs it with nfpm (github.com/goreleaser/nfpm/v2)
// used as a library, so that no packaging tool has to be installed. Only
// this command imports nfpm; the agent binary does not link it (see
// deps_test.go).
//
// Contents: /usr/bin/agent; the systemd unit rendered from the template
// `agent install` uses (install.PackagedSystemdUnit); /etc/msgguard/agent.yaml
// (the commented sample `agent install` writes) and /etc/msgguard/policy.yaml
// (the embedded default policy) as configuration files that an upgrade never
// overwrites once edited; the maintainer scripts in scripts/; the
// deployment guide, copyright and changelog under /usr/share/doc/msgguard.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

// Maintainer scripts. common.sh is prepended to each where it says
// #COMMON#, so that the .deb and the .rpm share one implementation and each
// installed script stands alone.
var (
	//go:embed scripts/common.sh
	commonSh string
	//go:embed scripts/deb/postinst
	debPostinst string
	//go:embed scripts/deb/prerm
	debPrerm string
	//go:embed scripts/deb/postrm
	debPostrm string
	//go:embed scripts/rpm/post
	rpmPost string
	//go:embed scripts/rpm/preun
	rpmPreun string
	//go:embed scripts/rpm/postun
	rpmPostun string
	//go:embed copyright
	copyright string
)

const (
	maintainer = "msgguard maintainers <msgguard@users.noreply.github.com>"
	homepage   = "https://github.com/msgguard/msgguard"
	summary    = "device policy agent for GDPR-compliant messenger use"
	long       = `msgguard inspects a device for installed and running messengers (which
variant, for which user), business/private account separation, screen lock,
remote wipe and disk encryption, evaluates that against the company's
messenger policy and reports drift to the existing log and monitoring
stack. The package installs the agent as the systemd service msgguard.`
)

// debDescription is the control file's Description: the synopsis, then
// the extended description with each line indented (deb-control(5)).
var debDescription = summary + "\n " + strings.ReplaceAll(long, "\n", "\n ")

// versionRE accepts versions valid for both dpkg (deb-version(7)) and rpm
// (no "-", which separates the release): a digit first, then letters,
// digits and . + ~ only.
var versionRE = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "package: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	dir := fs.String("o", "", "output `directory` for the .deb and .rpm (created if missing)")
	version := fs.String("version", "0.0.0~dev", "package and agent `version` (digits, letters, . + ~)")
	arch := fs.String("arch", "amd64", "target architecture: amd64 or arm64")
	binary := fs.String("binary", "", "package this already built agent `file` instead of building one (tests)")
	msi := fs.Bool("msi", false, "also build the Windows x64 .msi (needs wixl, Debian package wixl)")
	macos := fs.Bool("macos", false, "also lay out the macOS pkgbuild payload and scripts in DIR/macos-ARCH (the .pkg is built on a Mac)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() != 0 {
		return errors.New("usage: go run ./install/package -o DIR [-version V] [-arch amd64|arm64]")
	}
	if *arch != "amd64" && *arch != "arm64" {
		return fmt.Errorf("-arch %q: want amd64 or arm64", *arch)
	}
	if *msi {
		if _, err := msiVersion(*version); err != nil {
			return err
		}
	}
	if !versionRE.MatchString(*version) {
		return fmt.Errorf("-version %q: must start with a digit and hold only letters, digits and . + ~", *version)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "msgguard-package-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	exe := *binary
	if exe == "" {
		exe = filepath.Join(work, "agent")
		if err := buildAgentFor(ctx, root, exe, *version, "linux", *arch); err != nil {
			return err
		}
	}
	info, err := packageInfo(root, work, exe, *version, *arch, buildTime())
	if err != nil {
		return err
	}
	for _, format := range []string{"deb", "rpm"} {
		path, err := write(info, format, *dir)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, path)
	}
	if *msi {
		path, err := buildMSI(ctx, root, work, *dir, *version)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, path)
	}
	if *macos {
		path, err := writeMacOSRoot(ctx, root, *dir, *version, *arch)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, path)
	}
	return nil
}

// buildAgentFor builds the agent as releases are built: reproducible paths
// (-trimpath), no cgo (a static binary that runs on any glibc or musl
// distribution), position-independent (static-pie: ASLR, as Debian's
// hardening flags ask; lintian's statically-linked-binary check also
// accepts it), symbols stripped (-s -w; Debian policy 10.1), the version
// stamped.
func buildAgentFor(ctx context.Context, root, out, version, goos, arch string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildmode=pie",
		"-ldflags", "-s -w -X github.com/msgguard/msgguard/agent/version.Version="+version,
		"-o", out, "./agent")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the agent: %w", err)
	}
	return nil
}

func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the msgguard module")
	}
	return filepath.Dir(mod), nil
}

// packageInfo writes the generated files into work and describes the
// package.
// root is the repository, whose docs and alert rules are shipped too.
func packageInfo(root, work, exe, version, arch string, now time.Time) (*nfpm.Info, error) {
	paths := install.PathsFor("linux", "")
	unit, err := install.PackagedSystemdUnit()
	if err != nil {
		return nil, err
	}
	changelog, err := debianChangelog(version, now)
	if err != nil {
		return nil, err
	}
	generated := map[string][]byte{
		"agent.yaml":       config.Sample(paths),
		"policy.yaml":      policy.DefaultYAML(),
		"msgguard.service": []byte(unit),
		"copyright":        []byte(copyright),
		"changelog.gz":     changelog,
		"deb-postinst":     []byte(withCommon(debPostinst)),
		"deb-prerm":        []byte(withCommon(debPrerm)),
		"deb-postrm":       []byte(withCommon(debPostrm)),
		"rpm-post":         []byte(withCommon(rpmPost)),
		"rpm-preun":        []byte(withCommon(rpmPreun)),
		"rpm-postun":       []byte(withCommon(rpmPostun)),
	}
	for name, data := range generated {
		if err := os.WriteFile(filepath.Join(work, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	file := func(src, dst string, mode os.FileMode, typ string) *files.Content {
		return &files.Content{Source: src, Destination: dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode}}
	}
	w := func(name string) string { return filepath.Join(work, name) }
	doc := "/usr/share/doc/" + install.PackageName
	contents := files.Contents{
		file(exe, install.PackagedExecutable, 0o755, ""),
		file(w("msgguard.service"), install.PackagedUnit, 0o644, ""),
		// config|noreplace: dpkg conffiles (an edited file is kept and
		// the admin asked), rpm %config(noreplace) (an edited file is
		// kept, the new one lands beside it as .rpmnew).
		file(w("agent.yaml"), paths.Config, 0o644, files.TypeConfigNoReplace),
		file(w("policy.yaml"), paths.Policy, 0o644, files.TypeConfigNoReplace),
		file(w("copyright"), doc+"/copyright", 0o644, ""),
		file(w("changelog.gz"), doc+"/changelog.gz", 0o644, ""),
		file(filepath.Join(root, "docs", "deploy.md"), doc+"/README.deploy.md", 0o644, ""),
		file(filepath.Join(root, "install", "prometheus", "msgguard.rules.yml"), doc+"/prometheus/msgguard.rules.yml", 0o644, ""),
	}
	// RPM lists only the directories a package names (%dir); dpkg
	// records every parent of a file itself.
	for _, d := range []string{paths.ConfigDir, doc, doc + "/prometheus"} {
		contents = append(contents, &files.Content{Destination: d, Type: files.TypeDir, Packager: "rpm",
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o755}})
	}
	info := &nfpm.Info{
		Name:          install.PackageName,
		Arch:          arch,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none",
		Section:       "admin",
		Priority:      "optional",
		Maintainer:    maintainer,
		Description:   debDescription,
		Vendor:        "msgguard",
		Homepage:      homepage,
		License:       "not specified",
		MTime:         now,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts: nfpm.Scripts{
				PostInstall: w("deb-postinst"),
				PreRemove:   w("deb-prerm"),
				PostRemove:  w("deb-postrm"),
			},
			RPM: nfpm.RPM{
				Group:    "System Environment/Daemons",
				Summary:  "Device policy agent for GDPR-compliant messenger use",
				Packager: maintainer,
			},
		},
	}
	return info, nil
}

// write packs info as format into dir.
func write(base *nfpm.Info, format, dir string) (string, error) {
	cfg := nfpm.Config{Info: *base}
	info, err := cfg.Get(format)
	if err != nil {
		return "", err
	}
	info = nfpm.WithDefaults(info)
	if format == "rpm" {
		// RPM needs a release; the .deb stays a native package (no
		// Debian revision), whose changelog is changelog.gz.
		info.Release = "1"
		info.Description = long
		// The same scripts, in RPM's scriptlets: %post, %preun, %postun.
		work := filepath.Dir(base.Scripts.PostInstall)
		info.Scripts = nfpm.Scripts{
			PostInstall: filepath.Join(work, "rpm-post"),
			PreRemove:   filepath.Join(work, "rpm-preun"),
			PostRemove:  filepath.Join(work, "rpm-postun"),
		}
	}
	pkg, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, pkg.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	info.Target = path
	if err := pkg.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("building the %s: %w", format, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, nil
}

// buildTime stamps the files and the changelog: SOURCE_DATE_EPOCH when set
// (reproducible-builds.org/specs/source-date-epoch), else now.
func buildTime() time.Time {
	if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		return time.Unix(v, 0).UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

func withCommon(script string) string {
	return strings.Replace(script, "#COMMON#\n", commonSh, 1)
}

// debianChangelog is /usr/share/doc/msgguard/changelog.gz in the format of
// deb-changelog(5), compressed as Debian policy 12.7 asks (gzip -9n: best
// compression, no name or time stamp in the header).
func debianChangelog(version string, now time.Time) ([]byte, error) {
	text := fmt.Sprintf(`msgguard (%s) unstable; urgency=medium

  * Release %s, built from https://github.com/msgguard/msgguard.

 -- %s  %s
`, version, version, maintainer, now.UTC().Format(time.RFC1123Z))
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
