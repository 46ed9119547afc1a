#!/bin/sh
# fakecmd.sh stands in for adb and the libimobiledevice tools in the android
# and ios tests that go through a real platform.ExecRunner (installed by
# phonetest.FakeTools). It serves the recorded output of a command from a
# txtar-like file next to it:
#
#   adb -s SERIAL shell ARGS...  -> phones/SERIAL.txtar, section "-- ARGS --"
#   NAME ARGS... (anything else) -> host.txtar,          section "-- NAME ARGS --"
#
# A section header may carry an annotation: "[exit=N]" prints the body on
# stderr and exits N; "[hang]" never answers (the caller's timeout must end
# it). A command without a section fails like adb does for an unknown
# device, or with exit 127.
dir=$(dirname "$0")
name=$(basename "$0")
file="$dir/host.txtar"
key="$name $*"
if [ "$name" = adb ] && [ "$1" = -s ]; then
	serial=$2
	file="$dir/phones/$serial.txtar"
	shift 2
	if [ "$1" = shell ]; then shift; fi
	key="$*"
	if [ ! -f "$file" ]; then
		echo "error: device '$serial' not found" >&2
		exit 1
	fi
fi
awk -v key="$key" '
/^-- .* --$/ {
	if (found) exit
	h = substr($0, 4, length($0) - 6)
	ann = ""
	if (match(h, / \[[^]]*\]$/)) {
		ann = substr(h, RSTART + 2, RLENGTH - 3)
		h = substr(h, 1, RSTART - 1)
	}
	if (h == key) { found = 1; mode = ann }
	next
}
found {
	if (mode ~ /^exit=/) print > "/dev/stderr"
	else if (mode == "") print
}
END {
	if (!found) exit 201
	if (mode == "hang") exit 200
	if (mode ~ /^exit=/) exit substr(mode, 6) + 0
}' "$file"
rc=$?
case $rc in
200) exec sleep 60 ;;
201) echo "fakecmd: no recording for: $key" >&2; exit 127 ;;
esac
exit $rc
