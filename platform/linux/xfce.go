package linux

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// XFCE's xfce4-screensaver reads xfconf channel "xfce4-screensaver" and the
// lock-on-sleep key of channel "xfce4-power-manager"; names and defaults
// from xfce4-screensaver src/gs-prefs.h. xfconfd merges the per-channel XML
// of $XDG_CONFIG_DIRS (/etc/xdg/xfce4/xfconf/xfce-perchannel-xml) with the
// user's ~/.config/xfce4/xfconf/xfce-perchannel-xml, the user's properties
// winning. File format: kolide/launcher ee/tables/xfconf/testdata and the
// files xfconfd writes (<channel><property name type value>…).

const (
	xfceSystemDir   = "etc/xdg/xfce4/xfconf/xfce-perchannel-xml"
	xfceUserDir     = ".config/xfce4/xfconf/xfce-perchannel-xml"
	xfceSaverChan   = "xfce4-screensaver"
	xfcePowerChan   = "xfce4-power-manager"
	xfceSaverBinary = "usr/bin/xfce4-screensaver"
	// xfceMaxProps bounds the properties kept from one channel file.
	xfceMaxProps = 10000
)

// xfconfProp is one property value.
type xfconfProp struct {
	typ, value, source string
}

type xfconfXMLProp struct {
	Name  string          `xml:"name,attr"`
	Type  string          `xml:"type,attr"`
	Value string          `xml:"value,attr"`
	Props []xfconfXMLProp `xml:"property"`
}

// parseXfconfChannel flattens a channel file to "/a/b" → value.
func parseXfconfChannel(b []byte, source string) (map[string]xfconfProp, error) {
	var ch struct {
		XMLName xml.Name        `xml:"channel"`
		Props   []xfconfXMLProp `xml:"property"`
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&ch); err != nil && !errors.Is(err, io.EOF) {
		return nil, errors.New("not a valid xfconf channel file")
	}
	out := map[string]xfconfProp{}
	var walk func(prefix string, ps []xfconfXMLProp, depth int) error
	walk = func(prefix string, ps []xfconfXMLProp, depth int) error {
		if depth > 32 {
			return errors.New("xfconf properties nested too deeply")
		}
		for _, p := range ps {
			if p.Name == "" || strings.Contains(p.Name, "/") {
				continue
			}
			name := prefix + "/" + p.Name
			if p.Type != "empty" && p.Type != "array" {
				if len(out) >= xfceMaxProps {
					return errors.New("too many xfconf properties")
				}
				out[name] = xfconfProp{typ: p.Type, value: p.Value, source: source}
			}
			if err := walk(name, p.Props, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", ch.Props, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// xfceSystem holds the system channel files, read once per scan.
type xfceSystem struct {
	saver, power map[string]xfconfProp
	installed    bool
	err          error
}

func readXfceSystem(h *platform.Host) xfceSystem {
	var s xfceSystem
	if st, err := platform.Lstat(h.Root, xfceSaverBinary); err == nil && !st.IsDir() {
		s.installed = true
	}
	s.saver, s.err = readXfconf(h, "", xfceSystemDir, xfceSaverChan, "/"+xfceSystemDir)
	if s.err == nil {
		s.power, s.err = readXfconf(h, "", xfceSystemDir, xfcePowerChan, "/"+xfceSystemDir)
	}
	return s
}

// readXfconf reads one channel file; home is set for user files.
func readXfconf(h *platform.Host, home, dir, channel, label string) (map[string]xfconfProp, error) {
	rel := path.Join(dir, channel+".xml")
	var b []byte
	var err error
	if home != "" {
		b, err = platform.ReadUserFile(h.Root, home, rel, platform.MaxConfigSize)
	} else {
		b, err = platform.ReadFile(h.Root, rel, platform.MaxConfigSize)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	src := label + "/" + channel + ".xml"
	if err != nil {
		return nil, fmt.Errorf("%s not read: %w", src, err)
	}
	props, err := parseXfconfChannel(b, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return props, nil
}

// xfceSettings is one user's merged channels.
type xfceSettings struct {
	props map[string]xfconfProp
}

func (x xfceSettings) boolProp(name string, def bool) (bool, string) {
	p, ok := x.props[name]
	if ok {
		if v, ok := parseKeyfileBool(p.value); ok {
			return v, fmt.Sprintf("%s=%t (%s)", name, v, p.source)
		}
		return def, fmt.Sprintf("%s=%t (default; unparsable value in %s ignored)", name, def, p.source)
	}
	return def, fmt.Sprintf("%s=%t (default)", name, def)
}

func (x xfceSettings) intProp(name string, def int, unit string) (int, string) {
	p, ok := x.props[name]
	if ok {
		if v, err := strconv.Atoi(strings.TrimSpace(p.value)); err == nil && v >= 0 && v < 1<<20 {
			return v, fmt.Sprintf("%s=%d %s (%s)", name, v, unit, p.source)
		}
		return def, fmt.Sprintf("%s=%d %s (default; unparsable value in %s ignored)", name, def, unit, p.source)
	}
	return def, fmt.Sprintf("%s=%d %s (default)", name, def, unit)
}

// verdict evaluates XFCE for the user with root-relative home.
func (s xfceSystem) verdict(h *platform.Host, home string) lockVerdict {
	if s.err != nil {
		return unknownVerdict(desktopXFCE, s.err.Error())
	}
	if !s.installed {
		return unknownVerdict(desktopXFCE, "xfce4-screensaver is not installed (/"+xfceSaverBinary+"); other lockers (light-locker, xscreensaver) are not inspected")
	}
	saver := xfceSettings{props: map[string]xfconfProp{}}
	for k, v := range s.saver {
		saver.props[k] = v
	}
	for k, v := range s.power {
		saver.props[k] = v
	}
	if home != "" && home != "." {
		for _, ch := range []string{xfceSaverChan, xfcePowerChan} {
			props, err := readXfconf(h, home, path.Join(home, xfceUserDir), ch, "~/"+xfceUserDir)
			if err != nil {
				return unknownVerdict(desktopXFCE, err.Error())
			}
			for k, v := range props {
				saver.props[k] = v
			}
		}
	}
	saverOn, s1 := saver.boolProp("/saver/enabled", true)
	idleOn, s2 := saver.boolProp("/saver/idle-activation/enabled", true)
	idleMin, s3 := saver.intProp("/saver/idle-activation/delay", 5, "min")
	lockOn, s4 := saver.boolProp("/lock/enabled", true)
	lockSaver, s5 := saver.boolProp("/lock/saver-activation/enabled", true)
	graceMin, s6 := saver.intProp("/lock/saver-activation/delay", 0, "min")
	onSleep, s7 := saver.boolProp("/xfce4-power-manager/lock-screen-suspend-hibernate", true)
	return lockVerdict{
		desktop:   desktopXFCE,
		enabled:   policy.TriOf(saverOn && idleOn && idleMin > 0 && lockOn && lockSaver),
		idle:      intPtr(idleMin * 60),
		grace:     intPtr(graceMin * 60),
		onSuspend: policy.TriOf(onSleep && lockOn),
		source:    strings.Join([]string{s1, s2, s3, s4, s5, s6, s7}, "; "),
	}
}
