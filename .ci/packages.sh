#!/usr/bin/env bash
# Packaging checks, run by .ci/run as root: builds the .deb, .rpm and .msi
# with install/package; lints the .deb; checks the .rpm's files and
# scriptlets, the MSI's tables and the Prometheus alert rules; then installs
# the .deb on this machine, upgrades it to a second build, removes and purges
# it, checking at each step that configuration and data are kept or removed
# exactly as docs/deploy.md says. The machine is restored (package purged)
# however the checks end.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }

if [ "$(id -u)" != 0 ]; then
  echo "packaging checks need root (dpkg -i); skipped" >&2
  exit 0
fi
work=$(mktemp -d)
saved=() ours=
restore() {
  # Purge only a package this script installed (or one an interrupted run
  # left); put back what was moved aside.
  if [ -n "$ours" ]; then dpkg --purge msgguard >/dev/null 2>&1 || true; fi
  for d in "${saved[@]}"; do
    rm -rf "$d" && mv "$work/saved$d" "$d" || echo "could not restore $d from $work/saved$d" >&2
  done
  [ "${#saved[@]}" = 0 ] || echo "restored ${saved[*]}"
  rm -rf "$work"
}
trap restore EXIT

# Never touch an msgguard this machine really runs; a package left by an
# interrupted run of this script (its versions) is purged.
if dpkg-query -W -f='${Status}' msgguard 2>/dev/null | grep -q 'installed'; then
  case "$(dpkg-query -W -f='${Version}' msgguard)" in
    1.0.0 | 1.1.0~rc1) dpkg --purge msgguard ;;
    *) fail "msgguard $(dpkg-query -W -f='${Version}' msgguard) is installed on this machine; not replacing it" ;;
  esac
fi
ours=1
# Directories that something else left (a root `agent scan` writes
# /var/lib/msgguard) are moved aside and put back afterwards.
for d in /etc/msgguard /var/lib/msgguard /var/log/msgguard; do
  if [ -e "$d" ]; then
    mkdir -p "$work/saved$(dirname "$d")" && mv "$d" "$work/saved$d" && saved+=("$d")
  fi
done

# --- build ---------------------------------------------------------------
go run ./install/package -o "$work/v1" -version 1.0.0 -msi
go run ./install/package -o "$work/v2" -version 1.1.0~rc1
deb1=$work/v1/msgguard_1.0.0_amd64.deb
deb2=$work/v2/msgguard_1.1.0~rc1_amd64.deb
rpm1=$work/v1/msgguard-1.0.0-1.x86_64.rpm
msi=$work/v1/msgguard-1.0.0-x64.msi
for f in "$deb1" "$deb2" "$rpm1" "$msi"; do [ -s "$f" ] || fail "$f not built"; done
ok "built .deb, .rpm, .msi and a second .deb"

# --- lintian: no errors (warnings are printed) ------------------------------
lintian --fail-on error "$deb1" || fail "lintian reports errors"
ok "lintian: no errors"

# --- rpm: file list, config files, scriptlets --------------------------------
want_files='/etc/msgguard
/etc/msgguard/agent.yaml
/etc/msgguard/policy.yaml
/usr/bin/agent
/usr/lib/systemd/system/msgguard.service
/usr/share/doc/msgguard
/usr/share/doc/msgguard/README.deploy.md
/usr/share/doc/msgguard/changelog.gz
/usr/share/doc/msgguard/copyright
/usr/share/doc/msgguard/prometheus
/usr/share/doc/msgguard/prometheus/msgguard.rules.yml'
[ "$(rpm -qpl "$rpm1")" = "$want_files" ] || { rpm -qpl "$rpm1"; fail "rpm file list"; }
[ "$(rpm -qp --configfiles "$rpm1")" = $'/etc/msgguard/agent.yaml\n/etc/msgguard/policy.yaml' ] || fail "rpm config files"
scripts=$(rpm -qp --scripts "$rpm1")  # captured: see the MSI tables below
for s in 'postinstall scriptlet' 'preuninstall scriptlet' 'postuninstall scriptlet' 'systemctl enable' 'systemctl disable --now'; do
  grep -qF "$s" <<<"$scripts" || fail "rpm scriptlets lack '$s'"
done
ok "rpm: files, %config(noreplace), scriptlets"

# --- MSI tables (captured first: grep -q closing the pipe early would fail
# msiinfo under pipefail) ---------------------------------------------------
table() { msiinfo export "$msi" "$1"; }
has() { grep -qP "$2" <<<"$(table "$1")" || { table "$1"; fail "MSI $1 table lacks /$2/"; }; }
has ServiceInstall '^AgentService\tmsgguard\t.*\t16\t2\t1\t\t\tLocalSystem\t\trun --config "\[CommonAppDataFolder\]msgguard\\agent.yaml"\tAgent\t'
has ServiceControl '^AgentServiceControl\tmsgguard\t163\t\t1\tAgent'
has CustomAction '^ConfigureService\t3090\tAgentExe\tinstall --no-start'
has InstallExecuteSequence '^ConfigureService\tNOT REMOVE\t5801'
has Directory '^INSTALLDIR\tProgramFiles64Folder\tmsgguard'
if grep -q CommonAppDataFolder <<<"$(table Directory)"; then fail "the MSI owns a ProgramData directory"; fi
ok "MSI: service, service control, recovery custom action, directories"

# --- alert rules -----------------------------------------------------------
(cd install/prometheus && promtool check rules msgguard.rules.yml && promtool test rules msgguard.rules.test.yml)
ok "promtool check rules / test rules"

# --- install ---------------------------------------------------------------
out=$(dpkg -i "$deb1" 2>&1) || { echo "$out"; fail "dpkg -i"; }
echo "$out"
if [ ! -d /run/systemd/system ]; then
  grep -q 'agent run --config /etc/msgguard/agent.yaml' <<<"$out" || fail "postinst did not say how to start the agent without systemd"
fi
/usr/bin/agent version | grep -q '^msgguard agent 1.0.0 ' || fail "installed agent version: $(/usr/bin/agent version)"
verify=$(systemd-analyze verify /usr/lib/systemd/system/msgguard.service 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify warns: $verify"
[ "$(stat -c %a /var/lib/msgguard)" = 700 ] || fail "/var/lib/msgguard mode"
[ "$(stat -c %a /var/log/msgguard)" = 750 ] || fail "/var/log/msgguard mode"
grep -qx '/etc/msgguard/agent.yaml' /var/lib/dpkg/info/msgguard.conffiles || fail "agent.yaml is not a conffile"
ok "dpkg -i: agent version 1.0.0, unit verified, directories created"

# The administrator edits the config and the agent has data.
echo '# ci-marker: edited by the administrator' >>/etc/msgguard/agent.yaml
echo data >/var/lib/msgguard/ci-marker
echo log >/var/log/msgguard/ci-marker.log

# --- upgrade ---------------------------------------------------------------
dpkg -i --force-confold "$deb2"
/usr/bin/agent version | grep -q '^msgguard agent 1.1.0~rc1 ' || fail "upgraded agent version: $(/usr/bin/agent version)"
grep -q ci-marker /etc/msgguard/agent.yaml || fail "upgrade replaced the edited agent.yaml"
[ "$(cat /var/lib/msgguard/ci-marker)" = data ] || fail "upgrade lost data"
ok "upgrade to 1.1.0~rc1: edited config and data kept"

# --- remove: binary and unit go, configuration and data stay -----------------
dpkg -r msgguard
[ ! -e /usr/bin/agent ] || fail "remove left /usr/bin/agent"
[ ! -e /usr/lib/systemd/system/msgguard.service ] || fail "remove left the unit"
grep -q ci-marker /etc/msgguard/agent.yaml || fail "remove lost the edited agent.yaml"
[ -f /etc/msgguard/policy.yaml ] || fail "remove lost policy.yaml"
[ "$(cat /var/lib/msgguard/ci-marker)" = data ] || fail "remove lost data"
[ -f /var/log/msgguard/ci-marker.log ] || fail "remove lost logs"
dpkg-query -W -f='${Status}' msgguard | grep -q 'config-files' || fail "package not in config-files state"
ok "dpkg -r: configuration, data and logs kept"

# --- purge: everything goes ------------------------------------------------
dpkg -P msgguard
for d in /etc/msgguard /var/lib/msgguard /var/log/msgguard; do
  [ ! -e "$d" ] || fail "purge left $d"
done
ok "dpkg -P: /etc/msgguard, /var/lib/msgguard, /var/log/msgguard removed"

echo "packaging: $pass passed, 0 failed"
