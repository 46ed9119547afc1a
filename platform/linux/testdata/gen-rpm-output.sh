#!/bin/sh
# Regenerates rpm/rpm-qa.txt: the output of the exact query scanRPM runs,
# produced by the real rpm (Debian's "rpm" package, 4.18) against a scratch
# database holding empty packages built with rpmbuild and named and
# versioned like the real vendor RPMs (see rpm/README.md).
#
# Run from this directory: sh gen-rpm-output.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/top/SPECS" "$tmp/root"
while read -r name version release; do
	cat >"$tmp/top/SPECS/$name.spec" <<SPEC
Name: $name
Version: $version
Release: $release
Summary: fixture package named like the real $name RPM
License: Proprietary
BuildArch: noarch

%description
Fixture package without payload, named like the real $name RPM.

%files
SPEC
	rpmbuild -bb --quiet --define "_topdir $tmp/top" "$tmp/top/SPECS/$name.spec"
done <<LIST
slack 4.43.51 0.1.el8
teams 1.5.00.23861 1
skypeforlinux 8.106.0.210 1
LIST
rpm --root "$tmp/root" --dbpath /usr/lib/sysimage/rpm -i --nodeps --justdb "$tmp"/top/RPMS/noarch/*.rpm 2>/dev/null
rpm --root "$tmp/root" --dbpath /usr/lib/sysimage/rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' >"$here/rpm/rpm-qa.txt"
echo "wrote rpm/rpm-qa.txt"
