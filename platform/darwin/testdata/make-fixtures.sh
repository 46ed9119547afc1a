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

# Broken Info.plists for the hostile-bundle test (platform/darwin
# hostile_test.go builds the tree around them at test time, including a
# sparse 500 MB Info.plist and a bundle symlinked to "/").
mkdir -p broken
# A real binary plist cut in half: the trailer (last 32 bytes) is gone.
plistutil -i infoplist/Slack.xml -o broken/slack-full.bplist -f bin
head -c 300 broken/slack-full.bplist > broken/truncated.bplist
rm broken/slack-full.bplist
python3 - <<'PY'
import struct
# XML bomb: 100,000 nested arrays (1.5 MB, under the 2 MB Info.plist cap).
n = 100000
with open("broken/bomb.xml", "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n')
    f.write("<array>" * n + "</array>" * n)
    f.write("\n</plist>\n")

def bplist(objects, top=0):
    """objects: list of bytes (each an encoded object); refs are 4 bytes."""
    out = bytearray(b"bplist00")
    offsets = []
    for o in objects:
        offsets.append(len(out))
        out += o
    table = len(out)
    for off in offsets:
        out += struct.pack(">I", off)
    out += bytes(6) + bytes([4, 4]) + struct.pack(">QQQ", len(objects), top, table)
    return bytes(out)

def array(refs):
    n = len(refs)
    head = bytes([0xA0 | n]) if n < 15 else bytes([0xAF, 0x12]) + struct.pack(">I", n)
    return head + b"".join(struct.pack(">I", r) for r in refs)

# Binary bomb: 50,000 arrays, each holding the next.
n = 50000
with open("broken/bomb.bplist", "wb") as f:
    f.write(bplist([array([i + 1]) for i in range(n - 1)] + [array([])]))
# A container that contains itself.
with open("broken/cycle.bplist", "wb") as f:
    f.write(bplist([array([0])]))
# "Billion laughs": 40 levels, each array holding the next one 10 times:
# 1.8 KB that a walk without memoisation would expand into 10^39 paths.
n = 40
with open("broken/laughs.bplist", "wb") as f:
    f.write(bplist([array([i + 1] * 10) for i in range(n - 1)] + [array([])]))
PY
