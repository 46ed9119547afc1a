#!/bin/sh
# Rebuilds the fixture Mac under testdata/mac from testdata/src and
# testdata/infoplist. Binary plists are produced with plistutil (Debian
# package libplist-utils), a real implementation independent of the Go
# library under test. The output is committed; tests do not need the tool.
set -eu
cd "$(dirname "$0")"
UUID=4D5E9C1A-7B3F-5E21-9A0C-6F1E2D3C4B5A
rm -rf mac
bin() { mkdir -p "$(dirname "$2")"; plistutil -i "$1" -o "$2" -f bin; }
xml() { mkdir -p "$(dirname "$2")"; cp "$1" "$2"; }
keep() { mkdir -p "$1"; : > "$1/.keep"; }

# Apps: WhatsApp from the Mac App Store (binary Info.plist, receipt folder),
# Telegram for macOS (XML, as the vendor template), two non-messengers, and
# Safari behind the macOS 13+ cryptex link (skipped without a problem).
bin infoplist/WhatsApp.xml mac/Applications/WhatsApp.app/Contents/Info.plist
mkdir -p mac/Applications/WhatsApp.app/Contents/_MASReceipt
: > mac/Applications/WhatsApp.app/Contents/_MASReceipt/receipt
xml infoplist/Telegram.xml mac/Applications/Telegram.app/Contents/Info.plist
xml infoplist/Firefox.xml mac/Applications/Firefox.app/Contents/Info.plist
bin infoplist/Terminal.xml mac/Applications/Utilities/Terminal.app/Contents/Info.plist
ln -s ../System/Cryptexes/App/System/Applications/Safari.app mac/Applications/Safari.app

# Directory service records (binary, as macOS writes them).
for u in alice bob root daemon nobody _spotlight _mbsetupuser; do
	bin src/dslocal-$u.xml mac/var/db/dslocal/nodes/Default/users/$u.plist
done

# Identity files (XML on a real Mac).
xml src/SystemVersion.plist mac/System/Library/CoreServices/SystemVersion.plist
xml src/preferences.plist mac/Library/Preferences/SystemConfiguration/preferences.plist

# alice uses WhatsApp and Telegram; bob has no messenger data.
keep "mac/Users/alice/Library/Containers/net.whatsapp.WhatsApp/Data"
keep "mac/Users/alice/Library/Application Support/ru.keepcoder.Telegram"
bin src/byhost-screensaver-alice.xml "mac/Users/alice/Library/Preferences/ByHost/com.apple.screensaver.$UUID.plist"
bin src/byhost-screensaver-bob.xml "mac/Users/bob/Library/Preferences/ByHost/com.apple.screensaver.$UUID.plist"
keep "mac/Users/bob/Documents"
