package browser

import "crypto/sha256"

// AppID returns the id Chromium gives an installed web app whose unhashed
// app id (its manifest id, or its start URL when the manifest has no id) is
// url. Chromium hashes the URL with SHA-256, hashes that digest again, and
// spells the first 16 bytes in hex with the letters a-p
// (components/webapps/common/web_app_id.cc GenerateAppIdFromManifestId;
// older chrome/browser/web_applications/web_app_helpers.cc
// GenerateAppIdFromUnhashed; components/crx_file/id_util.cc GenerateId).
// The constants in chrome/browser/web_applications/web_app_id_constants.h
// check it: "https://mail.google.com/chat/" is
// mdpkiolbdkhdjpekfbkbmhigcaggjagi.
//
// The id appears in a macOS app shim's bundle identifier
// (com.google.Chrome.app.<id>) and in a Windows shortcut's --app-id=, so a
// catalog that names a messenger's web-app URL recognises its installed
// web app on every Chromium browser without a list of ids.
func AppID(url string) string {
	first := sha256.Sum256([]byte(url))
	h := sha256.Sum256(first[:])
	out := make([]byte, 32)
	for i, b := range h[:16] {
		out[2*i] = 'a' + b>>4
		out[2*i+1] = 'a' + b&0x0f
	}
	return string(out)
}

// validAppID reports whether s has the shape of a Chromium app id: 32
// letters a-p.
func validAppID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'p' {
			return false
		}
	}
	return true
}
