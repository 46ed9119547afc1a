package android

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
)

// maxPhones bounds how many lines of `adb devices` we keep.
const maxPhones = 64

// errNoDeviceList is returned when the output is not a device list.
var errNoDeviceList = errors.New(`unexpected output: no "List of devices attached" header`)

// parseDevices parses `adb devices -l`. The format is adb's
// transport.cpp append_transport: a "List of devices attached" header, then
// per transport `"%-22s %s"` (serial, state) followed by optional
// " <devpath>", " product:<p>", " model:<m>", " device:<d>" and always
// " transport_id:<n>". The "no permissions" state carries an explanation
// with spaces ("no permissions (user in plugdev group; are your udev rules
// wrong?); see [http://developer.android.com/tools/device.html]"), so the
// state is everything between the serial and the first key:value field.
// Lines adb's server start prints ("* daemon not running; starting now at
// tcp:5037") are skipped.
func parseDevices(b []byte) ([]Phone, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var phones []Phone
	header := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", strings.HasPrefix(line, "*"):
			continue
		case strings.HasPrefix(line, "List of devices attached"):
			header = true
			continue
		case !header:
			continue
		}
		if p, ok := parseDeviceLine(line); ok && len(phones) < maxPhones {
			phones = append(phones, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, errNoDeviceList
	}
	return phones, nil
}

func parseDeviceLine(line string) (Phone, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return Phone{}, false
	}
	p := Phone{Serial: fields[0]}
	// adb prints "(no serial number)" for an empty serial: three fields.
	rest := fields[1:]
	if p.Serial == "(no" && len(rest) >= 3 && rest[0] == "serial" && rest[1] == "number)" {
		p.Serial, rest = "(no serial number)", rest[2:]
	}
	var state []string
	for i, f := range rest {
		key, val, ok := deviceField(f)
		if !ok {
			if i == len(state) { // still in the state words
				state = append(state, f)
			}
			continue
		}
		switch key {
		case "usb":
			p.USB = f
		case "product":
			p.Product = val
		case "model":
			p.Model = val
		case "device":
			p.Device = val
		case "transport_id":
			p.TransportID = val
		}
	}
	if len(state) == 0 {
		return Phone{}, false
	}
	p.State = strings.Join(state, " ")
	if strings.HasPrefix(p.State, StateNoPermissions) {
		p.Detail = strings.TrimSpace(strings.TrimPrefix(p.State, StateNoPermissions))
		p.State = StateNoPermissions
	}
	return p, true
}

// deviceField splits a key:value field of a device line. Only adb's own
// keys count, so "[http://...]" in a no-permissions explanation is not one.
func deviceField(f string) (key, val string, ok bool) {
	key, val, ok = strings.Cut(f, ":")
	if !ok {
		return "", "", false
	}
	switch key {
	case "usb", "product", "model", "device", "transport_id":
		return key, val, true
	}
	return "", "", false
}
