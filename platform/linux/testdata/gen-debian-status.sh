#!/bin/sh
# Regenerates debian-desktop/var/lib/dpkg/status with the real dpkg.
#
# 1. Seeds a scratch dpkg database with unmodified stanzas copied from a
#    Debian 12 system's /var/lib/dpkg/status (the packages in REAL below).
# 2. Builds one tiny .deb per debian-control/*.control with dpkg-deb and
#    installs it with dpkg --root into the scratch root (dependencies are
#    not installed, hence --force-depends).
# 3. Removes skypeforlinux again, so dpkg leaves it in "deinstall ok
#    config-files" state, and puts slack-desktop on hold.
# dpkg itself writes the resulting status file; nothing is edited by hand.
#
# Run from this directory on a Debian system: sh gen-debian-status.sh
set -eu
REAL="base-files bash dpkg libc6 tzdata vim-common"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
admin="$root/var/lib/dpkg"
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
for p in $REAL; do
	awk -v p="$p" 'BEGIN{RS="";ORS="\n\n"} $0 ~ "^Package: " p "\n" {print}' /var/lib/dpkg/status
done >"$admin/status"
dpkg_() {
	dpkg --root="$root" --admindir="$admin" --log="$tmp/dpkg.log" \
		--force-not-root --force-depends --force-bad-path "$@" >/dev/null 2>&1
}
for ctl in "$here"/debian-control/*.control; do
	name=$(basename "$ctl" .control)
	pkg="$tmp/build/$name"
	mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/doc/$name"
	cp "$ctl" "$pkg/DEBIAN/control"
	echo "placeholder payload of the $name fixture package" >"$pkg/usr/share/doc/$name/README.fixture"
	if [ "$name" = skypeforlinux ]; then
		mkdir -p "$pkg/etc/$name"
		echo "# conffile so that dpkg -r leaves config-files state" >"$pkg/etc/$name/fixture.conf"
		echo "/etc/$name/fixture.conf" >"$pkg/DEBIAN/conffiles"
	fi
	dpkg-deb --root-owner-group --build "$pkg" "$tmp/$name.deb" >/dev/null
	dpkg_ -i "$tmp/$name.deb"
done
dpkg_ -r skypeforlinux
echo "slack-desktop hold" | dpkg --root="$root" --admindir="$admin" --force-not-root --set-selections
mkdir -p "$here/debian-desktop/var/lib/dpkg"
cp "$admin/status" "$here/debian-desktop/var/lib/dpkg/status"
echo "wrote debian-desktop/var/lib/dpkg/status"
