# Shared by the .deb and .rpm maintainer scripts (install/package prepends
# it to each one). POSIX sh: dash on Debian, bash on RPM distributions.

MSGGUARD_UNIT=msgguard.service

# msgguard_systemd: true when PID 1 is systemd; the same test as
# sd_booted(3) and as `agent install` (a directory /run/systemd/system).
msgguard_systemd() {
	[ -d /run/systemd/system ]
}

# msgguard_dirs creates the state and log directories with the modes
# `agent install` uses (systemd's StateDirectory=/LogsDirectory= would too,
# but not on a host that runs `agent run` under another supervisor).
msgguard_dirs() {
	install -d -m 0755 /etc/msgguard
	install -d -m 0700 /var/lib/msgguard
	install -d -m 0750 /var/log/msgguard
}

# msgguard_start enables the unit and (re)starts it: a first install starts
# the agent, an upgrade restarts it on the new binary with the kept
# configuration and database. A unit the administrator masked stays off.
msgguard_start() {
	if ! msgguard_systemd; then
		cat <<'MSG'
msgguard: this host does not run systemd (no /run/systemd/system), so the
msgguard service was neither enabled nor started. Run the agent in the
foreground under the host's own supervisor, as root:
    agent run --config /etc/msgguard/agent.yaml
(runit, s6, supervisord, a container's entrypoint ...). See
/usr/share/doc/msgguard/README.deploy.md.
MSG
		return 0
	fi
	systemctl daemon-reload || true
	if [ "$(systemctl is-enabled "$MSGGUARD_UNIT" 2>/dev/null || true)" = masked ]; then
		echo "msgguard: $MSGGUARD_UNIT is masked; not starting it"
		return 0
	fi
	systemctl enable "$MSGGUARD_UNIT" || true
	systemctl restart "$MSGGUARD_UNIT" || echo "msgguard: the service did not start; see: journalctl -u msgguard" >&2
}

# msgguard_stop stops and disables the unit before its files go away.
msgguard_stop() {
	if msgguard_systemd; then
		systemctl disable --now "$MSGGUARD_UNIT" >/dev/null 2>&1 || true
	fi
}

# msgguard_purge removes configuration, data and logs (and what `agent
# install` may have written beside the package: its own unit).
msgguard_purge() {
	rm -rf /etc/msgguard /var/lib/msgguard /var/log/msgguard /run/msgguard
	rm -f /etc/systemd/system/msgguard.service
	if msgguard_systemd; then
		systemctl daemon-reload || true
	fi
}
