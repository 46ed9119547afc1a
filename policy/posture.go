package policy

import (
	"sort"
	"strings"
)

// screenLock evaluates the screen-lock rule per user. Findings have subject
// "" and the user's name; a device without any user gets one finding with
// subject "device".
func (e *evaluation) screenLock() {
	rule := e.p.Posture.ScreenLock
	if !rule.Required {
		return
	}
	base := Finding{Rule: RuleScreenLock, Severity: rule.Severity}
	if !e.inv.Posture.Inspected {
		e.perUser(base, StatusUnknown, e.notInspected())
		return
	}
	locks := append([]ScreenLock(nil), e.inv.Posture.ScreenLock...)
	sort.SliceStable(locks, func(i, j int) bool { return locks[i].User < locks[j].User })
	seen := map[string]bool{}
	for i := range locks {
		seen[locks[i].User] = true
		e.add(e.screenLockFinding(base, &locks[i]))
	}
	var missing []User
	for _, u := range e.inv.Users {
		if !seen[u.Name] {
			missing = append(missing, u)
		}
	}
	if len(locks) == 0 && len(missing) == 0 {
		f := base
		f.Subject, f.Status = SubjectDevice, StatusUnknown
		f.Message = e.tr("No screen-lock result was reported for this device.", "Für dieses Gerät wurde kein Ergebnis zur Bildschirmsperre gemeldet.")
		e.add(f)
		return
	}
	for _, u := range missing {
		f := base
		f.User, f.Status = u.Name, StatusUnknown
		f.Message = e.tr("No screen-lock result was reported for this user.", "Für diesen Benutzer wurde kein Ergebnis zur Bildschirmsperre gemeldet.")
		e.add(f)
	}
}

// perUser adds one finding per user (or one for the device when there are
// no users) with the given status and message.
func (e *evaluation) perUser(base Finding, st Status, msg string) {
	if len(e.inv.Users) == 0 {
		f := base
		f.Subject, f.Status, f.Message = SubjectDevice, st, msg
		e.add(f)
		return
	}
	for _, u := range e.inv.Users {
		f := base
		f.User, f.Status, f.Message = u.Name, st, msg
		e.add(f)
	}
}

func (e *evaluation) screenLockFinding(base Finding, sl *ScreenLock) Finding {
	rule := e.p.Posture.ScreenLock
	f := base
	f.User = sl.User
	f.Evidence = []Evidence{screenLockEvidence(sl)}
	if sl.Applicable == No {
		f.Status = StatusNotApplicable
		f.Message = e.withReason(e.tr("No graphical session, so a screen lock does not apply.",
			"Keine grafische Sitzung, daher ist eine Bildschirmsperre hier nicht relevant."), sl.Reason)
		return f
	}
	var problems, unknowns []string
	switch sl.Enabled {
	case No:
		problems = append(problems, e.tr("the screen lock is off", "die Bildschirmsperre ist ausgeschaltet"))
	case Unknown:
		unknowns = append(unknowns, e.tr("whether the screen lock is on", "ob die Bildschirmsperre eingeschaltet ist"))
	}
	if sl.Enabled != No {
		if limit := rule.MaxIdleSeconds; limit != nil {
			switch {
			case sl.IdleSeconds == nil:
				unknowns = append(unknowns, e.tr("the idle time before locking", "die Leerlaufzeit bis zur Sperre"))
			case *sl.IdleSeconds == 0:
				problems = append(problems, e.tr("the screen never locks when idle", "der Bildschirm sperrt sich bei Inaktivität nie"))
			case *sl.IdleSeconds > *limit:
				problems = append(problems, e.tr("locks only after %d s idle (at most %d s allowed)",
					"sperrt erst nach %d s Inaktivität (höchstens %d s erlaubt)", *sl.IdleSeconds, *limit))
			}
		}
		if limit := rule.MaxGraceSeconds; limit != nil {
			switch {
			case sl.GraceSeconds == nil:
				unknowns = append(unknowns, e.tr("how soon after locking the password is required", "wie bald nach dem Sperren das Passwort verlangt wird"))
			case *sl.GraceSeconds > *limit:
				problems = append(problems, e.tr("the password is required only %d s after locking (at most %d s allowed)",
					"das Passwort wird erst %d s nach dem Sperren verlangt (höchstens %d s erlaubt)", *sl.GraceSeconds, *limit))
			}
		}
		if rule.LockOnSuspend {
			switch sl.LockOnSuspend {
			case No:
				problems = append(problems, e.tr("the screen does not lock on suspend", "der Bildschirm sperrt sich beim Wechsel in den Ruhezustand nicht"))
			case Unknown:
				unknowns = append(unknowns, e.tr("whether the screen locks on suspend", "ob sich der Bildschirm beim Wechsel in den Ruhezustand sperrt"))
			}
		}
	}
	switch {
	case len(problems) > 0:
		f.Status = StatusFail
		f.Message = e.withRationale(e.tr("Screen lock: %s.", "Bildschirmsperre: %s.", strings.Join(problems, "; ")), rule.Rationale)
		f.Remediation = e.text(remediationFor(rule.Remediation, rule.RemediationByPlatform, e.inv.Device.Platform),
			"Turn on the automatic screen lock and require the password right after locking and on wake from sleep.",
			"Die automatische Bildschirmsperre einschalten und das Passwort sofort nach dem Sperren und beim Aufwachen verlangen.")
	case len(unknowns) > 0:
		f.Status = StatusUnknown
		f.Message = e.withReason(e.tr("Could not determine %s.", "Nicht feststellbar: %s.", strings.Join(unknowns, ", ")), sl.Reason)
	default:
		f.Status = StatusPass
		f.Message = e.screenLockPass(sl)
	}
	return f
}

func (e *evaluation) screenLockPass(sl *ScreenLock) string {
	parts := []string{e.tr("the screen lock is on", "die Bildschirmsperre ist eingeschaltet")}
	if sl.IdleSeconds != nil {
		parts = append(parts, e.tr("locks after %d s idle", "sperrt nach %d s Inaktivität", *sl.IdleSeconds))
	}
	if sl.GraceSeconds != nil {
		parts = append(parts, e.tr("password required after %d s", "Passwort nach %d s verlangt", *sl.GraceSeconds))
	}
	if sl.LockOnSuspend == Yes {
		parts = append(parts, e.tr("locks on suspend", "sperrt beim Wechsel in den Ruhezustand"))
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func screenLockEvidence(sl *ScreenLock) Evidence {
	var detail []string
	if sl.Desktop != "" {
		detail = append(detail, "desktop "+sl.Desktop)
	}
	if sl.Policy != "" {
		detail = append(detail, "enforced "+sl.Policy)
	}
	return Evidence{Source: "screen-lock", Location: sl.Source, Detail: strings.Join(detail, "; ")}
}

// remoteWipe evaluates whether the company can wipe the device.
func (e *evaluation) remoteWipe() {
	rule := e.p.Posture.RemoteWipe
	if !rule.Required {
		return
	}
	f := Finding{Rule: RuleRemoteWipe, Subject: SubjectDevice, Severity: rule.Severity}
	if !e.inv.Posture.Inspected {
		f.Status, f.Message = StatusUnknown, e.notInspected()
		e.add(f)
		return
	}
	rw := e.inv.Posture.RemoteWipe
	if rw.Source != "" || rw.Provider != "" {
		f.Evidence = []Evidence{{Source: "remote-wipe", Location: rw.Source, Detail: strings.TrimSpace(rw.Provider + " " + rw.Scope)}}
	}
	provider := rw.Provider
	if provider == "" {
		provider = e.tr("unknown provider", "unbekannter Anbieter")
	}
	remediation := e.text(remediationFor(rule.Remediation, rule.RemediationByPlatform, e.inv.Device.Platform),
		"Enrol the device in the company's device management so that IT can wipe it remotely.",
		"Das Gerät in der Geräteverwaltung der Firma anmelden, damit die IT es aus der Ferne löschen kann.")
	switch rw.Capable {
	case Yes:
		if rw.Scope == "work-profile" {
			if !rule.AcceptWorkProfile {
				f.Status = StatusFail
				f.Message = e.withRationale(e.tr("Only the work profile can be wiped remotely (%s); the policy requires a wipe of the whole device.",
					"Nur das Arbeitsprofil lässt sich aus der Ferne löschen (%s); die Richtlinie verlangt das Löschen des ganzen Geräts.", provider), rule.Rationale)
				f.Remediation = remediation
			} else {
				f.Status = StatusPass
				f.Message = e.tr("The company can wipe the work profile remotely (%s).", "Die Firma kann das Arbeitsprofil aus der Ferne löschen (%s).", provider)
			}
			break
		}
		f.Status = StatusPass
		f.Message = e.tr("The company can wipe this device remotely (%s).", "Die Firma kann dieses Gerät aus der Ferne löschen (%s).", provider)
	case No:
		f.Status = StatusFail
		msg := e.withReason(e.tr("The company cannot wipe this device remotely.", "Die Firma kann dieses Gerät nicht aus der Ferne löschen."), rw.Reason)
		if rw.ConsumerLock == Yes {
			msg += " " + e.tr("A consumer service such as Find My is set up, but the company does not control it.",
				"Ein Dienst für Privatnutzer wie „Wo ist?“ ist eingerichtet, aber die Firma hat keinen Zugriff darauf.")
		}
		f.Message = e.withRationale(msg, rule.Rationale)
		f.Remediation = remediation
	default:
		f.Status = StatusUnknown
		f.Message = e.withReason(e.tr("Whether the company can wipe this device remotely could not be determined.",
			"Ob die Firma dieses Gerät aus der Ferne löschen kann, ließ sich nicht feststellen."), rw.Reason)
	}
	e.add(f)
}

// diskEncryption evaluates each reported volume (subject = mount), limited
// to the policy's mounts when it names any.
func (e *evaluation) diskEncryption() {
	rule := e.p.Posture.DiskEncryption
	if !rule.Required {
		return
	}
	base := Finding{Rule: RuleDiskEncryption, Severity: rule.Severity}
	if !e.inv.Posture.Inspected {
		f := base
		f.Subject, f.Status, f.Message = SubjectDevice, StatusUnknown, e.notInspected()
		e.add(f)
		return
	}
	var vols []Volume
	for _, v := range e.inv.Posture.Encryption.Volumes {
		if len(rule.Mounts) == 0 || contains(rule.Mounts, v.Mount) {
			vols = append(vols, v)
		}
	}
	if len(vols) == 0 {
		f := base
		f.Subject, f.Status = SubjectDevice, StatusUnknown
		f.Message = e.withReason(e.tr("No volume to check was reported.", "Es wurde kein zu prüfendes Laufwerk gemeldet."), e.inv.Posture.Encryption.Reason)
		e.add(f)
		return
	}
	remediation := e.text(remediationFor(rule.Remediation, rule.RemediationByPlatform, e.inv.Device.Platform), "Encrypt this volume.", "Dieses Laufwerk verschlüsseln.")
	for _, v := range vols {
		f := base
		f.Subject = v.Mount
		f.Evidence = []Evidence{{Source: "disk-encryption", Location: v.Source, Detail: strings.TrimSpace(v.Device + " " + v.Method)}}
		switch {
		case v.Encrypted == Yes && v.Protected == No:
			f.Status = StatusFail
			f.Message = e.withRationale(e.tr("%s is encrypted, but its protection is suspended.",
				"%s ist verschlüsselt, der Schutz ist aber ausgesetzt.", v.Mount), rule.Rationale)
			f.Remediation = remediation
		case v.Encrypted == Yes:
			f.Status = StatusPass
			if v.Method != "" {
				f.Message = e.tr("%s is encrypted (%s).", "%s ist verschlüsselt (%s).", v.Mount, v.Method)
			} else {
				f.Message = e.tr("%s is encrypted.", "%s ist verschlüsselt.", v.Mount)
			}
		case v.Encrypted == No:
			f.Status = StatusFail
			f.Message = e.withRationale(e.tr("%s is not encrypted.", "%s ist nicht verschlüsselt.", v.Mount), rule.Rationale)
			f.Remediation = remediation
		default:
			f.Status = StatusUnknown
			f.Message = e.withReason(e.tr("Whether %s is encrypted could not be determined.",
				"Ob %s verschlüsselt ist, ließ sich nicht feststellen.", v.Mount), v.Reason)
		}
		e.add(f)
	}
}
