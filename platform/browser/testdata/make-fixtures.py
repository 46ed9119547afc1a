#!/usr/bin/env python3
"""Writes the browser parts of the Linux, macOS and Windows fixture trees
(see README.md). Run from the repository root; it is idempotent."""
import os, struct, pathlib

def touch(p, data=b""):
    p = pathlib.Path(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)

CURRENT = b"MANIFEST-000001\n"  # a LevelDB folder's CURRENT file; never read by the agent

def chromium_origin(profile, host):
    touch(f"{profile}/IndexedDB/https_{host}_0.indexeddb.leveldb/CURRENT", CURRENT)

def firefox_origin(profile, name):
    touch(f"{profile}/storage/default/{name}/.metadata-v2")

# --- Linux: platform/linux/testdata/debian-desktop ---
L = "platform/linux/testdata/debian-desktop/home"
chrome = f"{L}/alice/.config/google-chrome"
touch(f"{chrome}/Local State", b'{"profile":{"info_cache":{"Default":{"name":"Person 1"},"Profile 1":{"name":"Work"}}}}\n')
chromium_origin(f"{chrome}/Default", "web.whatsapp.com")
chromium_origin(f"{chrome}/Default", "www.example.org")  # unrelated: never reported
chromium_origin(f"{chrome}/Profile 1", "app.slack.com")
chromium_origin(f"{chrome}/System Profile", "web.telegram.org")  # not a user profile
ff = f"{L}/bob/.mozilla/firefox"
touch(f"{ff}/profiles.ini", b"""[Install4F96D1932A9F858E]
Default=k9x2m4qa.default-release
Locked=1

[Profile1]
Name=default
IsRelative=1
Path=0tf7cw8o.default
Default=1

[Profile0]
Name=default-release
IsRelative=1
Path=k9x2m4qa.default-release

[General]
StartWithLastProfile=1
Version=2
""")
firefox_origin(f"{ff}/k9x2m4qa.default-release", "https+++web.telegram.org")
firefox_origin(f"{ff}/k9x2m4qa.default-release", "https+++www.example.org")
firefox_origin(f"{ff}/k9x2m4qa.default-release", "https+++teams.live.com^userContextId=2")
touch(f"{ff}/0tf7cw8o.default/times.json", b'{"created":1700000000000}\n')
chromium_origin(f"{L}/bob/snap/chromium/common/chromium/Default", "discord.com")

# --- macOS: platform/darwin/testdata/mac ---
M = "platform/darwin/testdata/mac/Users/alice"
chromium_origin(f"{M}/Library/Application Support/Google/Chrome/Default", "www.messenger.com")
chromium_origin(f"{M}/Library/Application Support/Google/Chrome/Default", "www.example.org")
apps = f"{M}/Applications/Chrome Apps.localized"
yt = open("/work/shared/real-captures/macos/captures/infoplist/chrome-app-youtube.Info.plist", "rb").read() \
    if os.path.exists("/work/shared/real-captures/macos/captures/infoplist/chrome-app-youtube.Info.plist") \
    else open(f"{apps}/YouTube.app/Contents/Info.plist", "rb").read()
touch(f"{apps}/YouTube.app/Contents/Info.plist", yt)
wa = (yt.replace(b"agimnkijcaahngcdmfeangaknmldooml", b"hnpfjngllnobngcgfapefoaidbinmjnm")
        .replace(b"https://www.youtube.com/?feature=ytca", b"https://web.whatsapp.com/")
        .replace(b"<string>YouTube</string>", b"<string>WhatsApp Web</string>")
        .replace(b"/Users/gabrielebimbo/", b"/Users/alice/"))
touch(f"{apps}/WhatsApp Web.app/Contents/Info.plist", wa)

# --- Windows: platform/windows/testdata/home/root ---
W = "platform/windows/testdata/home/root/Users"
chromium_origin(f"{W}/dave/AppData/Local/Microsoft/Edge/User Data/Default", "teams.microsoft.com")
chromium_origin(f"{W}/dave/AppData/Local/Microsoft/Edge/User Data/Default", "www.example.org")

def utf16(s):
    return struct.pack("<H", len(s)) + s.encode("utf-16-le")

def lnk(target, workdir, args, icon):
    # [MS-SHLLINK] 2.1 ShellLinkHeader, then an empty LinkTargetIDList (2.2:
    # IDListSize 2, TerminalID 0) and StringData (2.4) in Unicode.
    flags = 0x01 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80
    clsid = bytes.fromhex("0114020000000000c000000000000046")
    hdr = struct.pack("<I16sII8s8s8sIiIHHII", 0x4C, clsid, flags, 0x20, b"\0"*8, b"\0"*8, b"\0"*8, 0, 0, 1, 0, 0, 0, 0)
    assert len(hdr) == 0x4C
    body = struct.pack("<HH", 2, 0)
    body += utf16(target) + utf16(workdir) + utf16(args) + utf16(icon)
    return hdr + body + b"\0\0\0\0"  # TerminalBlock (2.6)

sm = f"{W}/carol/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Chrome Apps"
touch(f"{sm}/WhatsApp Web.lnk", lnk(
    r"..\..\..\..\..\..\..\..\Program Files\Google\Chrome\Application\chrome_proxy.exe",
    r"C:\Program Files\Google\Chrome\Application",
    "--profile-directory=Default --app-id=hnpfjngllnobngcgfapefoaidbinmjnm",
    r"C:\Users\carol\AppData\Local\Google\Chrome\User Data\Default\Web Applications\_crx_hnpfjngllnobngcgfapefoaidbinmjnm\WhatsApp Web.ico"))
touch(f"{sm}/YouTube.lnk", lnk(
    r"..\..\..\..\..\..\..\..\Program Files\Google\Chrome\Application\chrome_proxy.exe",
    r"C:\Program Files\Google\Chrome\Application",
    "--profile-directory=Default --app-id=agimnkijcaahngcdmfeangaknmldooml",
    r"C:\Users\carol\AppData\Local\Google\Chrome\User Data\Default\Web Applications\_crx_agimnkijcaahngcdmfeangaknmldooml\YouTube.ico"))
