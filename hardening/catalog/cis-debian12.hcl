# CIS Debian Linux 12 Benchmark v1.1.0: every recommendation of the Level 1
# and Level 2 Server profiles (sections 1-7), by its section id, with a short
# title in our own words (not CIS's text) and the appliance's status:
#
#   implemented     a profile control enforces it (by = the control ids)
#   exception       a documented deviation (by = the compensating controls)
#   not-applicable  the thing it configures is not in the image (reason)
#   open            not yet implemented (note says what is there today)
#
# Ids and levels as the ansible-lockdown DEBIAN12-CIS role numbers them for
# v1.1.0; we had no access to the benchmark PDF itself. nist = the NIST SP
# 800-53 rev5 controls the same role tags each recommendation with (none
# where it has no mapping); the OSCAL component definition uses them. Controls in
# profile.hcl cite these ids; catalog_test.go fails when a cited id is missing
# here or an item has no status. `appliance-audit coverage` prints the table.

reference "cis" {
  title = "CIS Debian Linux 12 Benchmark v1.1.0 (Level 1 + Level 2 Server)"
  scope = "complete"
}

reason "journald-only" {
  text = "journald is the single logging system (CIS 6.1.1.4, log-journald); the rsyslog alternative of section 6.1.3 does not apply."
}

reason "nftables-chosen" {
  text = "CIS 4.1.1 asks for one firewall tool; the image uses nftables (section 4.3), so the ufw (4.2) and iptables (4.4) alternatives do not apply."
}

reason "no-cron" {
  text = "No cron or at daemon in the image: the appliance runs no scheduled user jobs."
}

reason "no-desktop" {
  text = "No display manager, desktop or X server in the image."
}

reason "no-interactive-users" {
  text = "No interactive user accounts and no home directories: the root file system is read-only and only system accounts exist."
}

reason "no-logins" {
  text = "No account can log in: root is locked (accounts-root-locked), every account has a nologin shell (accounts-nologin) and there are no shells (sw-no-shells)."
}

reason "no-mac" {
  text = "No SELinux or AppArmor policy is loaded, so there is no MAC policy to change (see 1.3.1.x, open)."
}

reason "no-package-manager" {
  text = "No package manager in the image (sw-no-package-manager): software changes only as a new signed image."
}

reason "no-passwords" {
  text = "No account has a usable password (accounts-no-passwords, accounts-root-locked), so password quality, ageing, history, lockout and hashing rules protect nothing."
}

reason "no-ssh" {
  text = "No SSH server in the image: the appliance is never administered by remote login; it is rebuilt and reconfigured through the credential allowlist."
}

reason "no-sudo" {
  text = "No sudo in the image and no account can log in, so there is nothing to escalate from."
}

reason "no-suid" {
  text = "There are no SUID or SGID programs in the image (sw-no-suid), so there are no privileged programs whose runs to audit."
}

reason "timesyncd-not-chrony" {
  text = "CIS allows one time daemon; chrony is not the one the image will use (systemd-timesyncd is part of systemd)."
}

item "1.1.1.1" {
  title  = "cramfs module cannot be loaded"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.2" {
  title  = "freevxfs module cannot be loaded"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.3" {
  title  = "hfs module cannot be loaded"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.4" {
  title  = "hfsplus module cannot be loaded"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.5" {
  title  = "jffs2 module cannot be loaded"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.6" {
  title  = "overlayfs module cannot be loaded"
  level  = 2
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.7" {
  title  = "squashfs module cannot be loaded"
  level  = 2
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.8" {
  title  = "udf module cannot be loaded"
  level  = 2
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.1.9" {
  title  = "usb-storage module cannot be loaded"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["modules-usb-storage"]
}

item "1.1.1.10" {
  title  = "no other unused filesystem module loadable"
  level  = 1
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "1.1.2.1.1" {
  title  = "/tmp on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["fs-tmp"]
}

item "1.1.2.1.2" {
  title  = "/tmp mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-tmp"]
}

item "1.1.2.1.3" {
  title  = "/tmp mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-tmp"]
}

item "1.1.2.1.4" {
  title  = "/tmp mounted noexec"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-tmp"]
}

item "1.1.2.2.1" {
  title  = "/dev/shm on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "1.1.2.2.2" {
  title  = "/dev/shm mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "1.1.2.2.3" {
  title  = "/dev/shm mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "1.1.2.2.4" {
  title  = "/dev/shm mounted noexec"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "1.1.2.3.1" {
  title  = "/home on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "not-applicable"
  reason = "no-interactive-users"
}

item "1.1.2.3.2" {
  title  = "/home mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-interactive-users"
}

item "1.1.2.3.3" {
  title  = "/home mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-interactive-users"
}

item "1.1.2.4.1" {
  title  = "/var on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["fs-var"]
  note   = "fs-var checks the /var mount (its own partition, or tmpfs in stateless images)"
}

item "1.1.2.4.2" {
  title  = "/var mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-var"]
}

item "1.1.2.4.3" {
  title  = "/var mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-var"]
}

item "1.1.2.5.1" {
  title  = "/var/tmp on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.5.2" {
  title  = "/var/tmp mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.5.3" {
  title  = "/var/tmp mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.5.4" {
  title  = "/var/tmp mounted noexec"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.6.1" {
  title  = "/var/log on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.6.2" {
  title  = "/var/log mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.6.3" {
  title  = "/var/log mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.6.4" {
  title  = "/var/log mounted noexec"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.7.1" {
  title  = "/var/log/audit on its own mount"
  level  = 1
  nist   = ["CM-7"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.7.2" {
  title  = "/var/log/audit mounted nodev"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.7.3" {
  title  = "/var/log/audit mounted nosuid"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.1.2.7.4" {
  title  = "/var/log/audit mounted noexec"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "not a mount of its own: it lives on /var, which is nodev,nosuid (fs-var) but not noexec"
}

item "1.2.1.1" {
  title  = "apt signing keys"
  level  = 1
  nist   = ["SI-2"]
  status = "not-applicable"
  reason = "no-package-manager"
}

item "1.2.1.2" {
  title  = "apt sources"
  level  = 1
  nist   = ["SI-2"]
  status = "not-applicable"
  reason = "no-package-manager"
}

item "1.2.2.1" {
  title  = "security updates applied"
  level  = 1
  nist   = ["SI-2"]
  status = "open"
  note   = "updates arrive as a whole new image in the inactive A/B slot; no control yet compares the image SBOM with Debian security advisories"
}

item "1.3.1.1" {
  title  = "AppArmor package"
  level  = 1
  nist   = ["AC-3"]
  status = "open"
  note   = "no mandatory access control (AppArmor) yet; the services are confined by systemd sandboxing (svc-exposure)"
}

item "1.3.1.2" {
  title  = "AppArmor on the kernel command line"
  level  = 1
  nist   = ["AC-3"]
  status = "open"
  note   = "no mandatory access control (AppArmor) yet; the services are confined by systemd sandboxing (svc-exposure)"
}

item "1.3.1.3" {
  title  = "every AppArmor profile loaded (enforce or complain)"
  level  = 1
  status = "open"
  note   = "no mandatory access control (AppArmor) yet; the services are confined by systemd sandboxing (svc-exposure)"
}

item "1.3.1.4" {
  title  = "every AppArmor profile enforcing"
  level  = 2
  status = "open"
  note   = "no mandatory access control (AppArmor) yet; the services are confined by systemd sandboxing (svc-exposure)"
}

item "1.4.1" {
  title  = "boot loader password"
  level  = 1
  nist   = ["AC-3"]
  status = "exception"
  by     = ["boot-uki", "boot-secure-boot"]
  note   = "systemd-boot has no password. The boot chain is protected instead: the kernel command line is inside the UKI (boot-uki), so it cannot be edited at the boot menu without breaking the UKI signature (boot-secure-boot), and the root is pinned by the dm-verity hash on that command line."
}

item "1.4.2" {
  title  = "boot loader configuration mode"
  level  = 1
  nist   = ["AC-3"]
  status = "open"
  note   = "the ESP is FAT (no modes); its content is covered by the UKI signature, but no control checks the mount options"
}

item "1.5.1" {
  title  = "ASLR full (randomize_va_space=2)"
  level  = 1
  nist   = ["CM-6"]
  status = "implemented"
  by     = ["sysctl-aslr"]
}

item "1.5.2" {
  title  = "ptrace restricted (Yama)"
  level  = 1
  nist   = ["CM-6"]
  status = "implemented"
  by     = ["sysctl-yama-ptrace"]
}

item "1.5.3" {
  title  = "no core dumps of privileged processes"
  level  = 1
  nist   = ["CM-6"]
  status = "implemented"
  by     = ["sysctl-core-dumps", "svc-coredump-off"]
}

item "1.6.1" {
  title  = "motd content"
  level  = 1
  nist   = ["CM-1", "CM-3", "CM-6"]
  status = "not-applicable"
  reason = "no-logins"
}

item "1.6.2" {
  title  = "console pre-login banner (/etc/issue) content"
  level  = 1
  nist   = ["CM-1", "CM-3", "CM-6"]
  status = "open"
  note   = "a console getty shows /etc/issue; nobody can log in there, but its content and mode are not checked"
}

item "1.6.3" {
  title  = "network pre-login banner (/etc/issue.net) content"
  level  = 1
  nist   = ["CM-1", "CM-3", "CM-6"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "1.6.4" {
  title  = "/etc/motd owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-logins"
}

item "1.6.5" {
  title  = "/etc/issue owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
  note   = "a console getty shows /etc/issue; nobody can log in there, but its content and mode are not checked"
}

item "1.6.6" {
  title  = "/etc/issue.net owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "1.7.1" {
  title  = "no GNOME display manager"
  level  = 2
  nist   = ["CM-11"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.2" {
  title  = "display manager banner"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.3" {
  title  = "display manager hides the user list"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.4" {
  title  = "desktop idle lock"
  level  = 1
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.5" {
  title  = "desktop idle lock locked down"
  level  = 1
  nist   = ["CM-11"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.6" {
  title  = "desktop automount of removable media off"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.7" {
  title  = "desktop automount setting locked down"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.8" {
  title  = "desktop autorun off"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.9" {
  title  = "desktop autorun setting locked down"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "1.7.10" {
  title  = "no XDMCP"
  level  = 1
  nist   = ["SI-4"]
  status = "not-applicable"
  reason = "no-desktop"
}

item "2.1.1" {
  title  = "no automounter (autofs)"
  level  = 1
  nist   = ["SI-3", "MP-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.2" {
  title  = "no mDNS daemon (avahi)"
  level  = 1
  nist   = ["SI-4"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.3" {
  title  = "no DHCP server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.4" {
  title  = "no DNS server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.5" {
  title  = "no dnsmasq"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.6" {
  title  = "no FTP server"
  level  = 1
  nist   = ["CM-6", "CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.7" {
  title  = "no LDAP server"
  level  = 1
  nist   = ["CM-6", "CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.8" {
  title  = "no IMAP/POP3 server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.9" {
  title  = "no NFS server"
  level  = 1
  nist   = ["CM-6", "CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.10" {
  title  = "no NIS server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.11" {
  title  = "no print server (CUPS)"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.12" {
  title  = "no rpcbind"
  level  = 1
  nist   = ["CM-6", "CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.13" {
  title  = "no rsync daemon"
  level  = 1
  nist   = ["CM-6", "CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.14" {
  title  = "no Samba server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.15" {
  title  = "no SNMP agent"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.16" {
  title  = "no TFTP server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.17" {
  title  = "no HTTP proxy"
  level  = 1
  nist   = ["CM-6", "CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.18" {
  title  = "no web server"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.19" {
  title  = "no xinetd"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.20" {
  title  = "no X server"
  level  = 1
  nist   = ["CM-11"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "2.1.21" {
  title  = "mail agent local only"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["svc-enabled-allowlist", "net-listening"]
  note   = "no mail agent is installed; nothing but the declared ports listens"
}

item "2.1.22" {
  title  = "only approved listeners on network interfaces"
  level  = 1
  nist   = ["CM-7"]
  status = "implemented"
  by     = ["net-listening", "net-nftables-default-deny"]
}

item "2.2.1" {
  title  = "no NIS client"
  level  = 1
  status = "open"
  note   = "not in the minbase image, but no control checks their absence yet (sw-no-* lists other binaries)"
}

item "2.2.2" {
  title  = "no rsh client"
  level  = 1
  status = "open"
  note   = "not in the minbase image, but no control checks their absence yet (sw-no-* lists other binaries)"
}

item "2.2.3" {
  title  = "no talk client"
  level  = 1
  status = "open"
  note   = "not in the minbase image, but no control checks their absence yet (sw-no-* lists other binaries)"
}

item "2.2.4" {
  title  = "no telnet client"
  level  = 1
  status = "open"
  note   = "not in the minbase image, but no control checks their absence yet (sw-no-* lists other binaries)"
}

item "2.2.5" {
  title  = "no LDAP client tools"
  level  = 1
  status = "open"
  note   = "not in the minbase image, but no control checks their absence yet (sw-no-* lists other binaries)"
}

item "2.2.6" {
  title  = "no FTP client"
  level  = 1
  status = "open"
  note   = "not in the minbase image, but no control checks their absence yet (sw-no-* lists other binaries)"
}

item "2.3.1.1" {
  title  = "exactly one time sync daemon"
  level  = 1
  nist   = ["AU-3", "AU-12"]
  status = "open"
  note   = "no time synchronisation daemon is enabled in the image yet"
}

item "2.3.2.1" {
  title  = "timesyncd uses approved time servers"
  level  = 1
  nist   = ["AU-7", "AU-8"]
  status = "open"
  note   = "no time synchronisation daemon is enabled in the image yet"
}

item "2.3.2.2" {
  title  = "timesyncd enabled"
  level  = 1
  nist   = ["AU-7", "AU-8"]
  status = "open"
  note   = "no time synchronisation daemon is enabled in the image yet"
}

item "2.3.3.1" {
  title  = "chrony uses approved time servers"
  level  = 1
  nist   = ["AU-3", "AU-12"]
  status = "not-applicable"
  reason = "timesyncd-not-chrony"
}

item "2.3.3.2" {
  title  = "chrony runs as _chrony"
  level  = 1
  nist   = ["AU-8"]
  status = "not-applicable"
  reason = "timesyncd-not-chrony"
}

item "2.3.3.3" {
  title  = "chrony enabled"
  level  = 1
  nist   = ["AU-8"]
  status = "not-applicable"
  reason = "timesyncd-not-chrony"
}

item "2.4.1.1" {
  title  = "cron enabled"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.2" {
  title  = "/etc/crontab mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.3" {
  title  = "/etc/cron.hourly mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.4" {
  title  = "/etc/cron.daily mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.5" {
  title  = "/etc/cron.weekly mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.6" {
  title  = "/etc/cron.monthly mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.7" {
  title  = "/etc/cron.d mode"
  level  = 1
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.1.8" {
  title  = "crontab allow list"
  level  = 1
  status = "not-applicable"
  reason = "no-cron"
}

item "2.4.2.1" {
  title  = "at allow list"
  level  = 1
  status = "not-applicable"
  reason = "no-cron"
}

item "3.1.1" {
  title  = "IPv6 use decided"
  level  = 1
  nist   = ["CM-7"]
  status = "open"
  note   = "IPv6 is on and filtered (nftables, XDP, accept_ra=0), but the decision is not recorded as a control"
}

item "3.1.2" {
  title  = "no wireless interfaces"
  level  = 1
  nist   = ["CM-7"]
  status = "open"
  note   = "the cloud kernel ships no wireless or Bluetooth drivers and unused modules are stripped, but no control checks it"
}

item "3.1.3" {
  title  = "no Bluetooth"
  level  = 1
  nist   = ["CM-7"]
  status = "open"
  note   = "the cloud kernel ships no wireless or Bluetooth drivers and unused modules are stripped, but no control checks it"
}

item "3.2.1" {
  title  = "dccp module cannot be loaded"
  level  = 2
  nist   = ["CM-7", "SI-4"]
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "3.2.2" {
  title  = "tipc module cannot be loaded"
  level  = 2
  nist   = ["CM-7", "SI-4"]
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "3.2.3" {
  title  = "rds module cannot be loaded"
  level  = 2
  nist   = ["CM-7", "SI-4"]
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "3.2.4" {
  title  = "sctp module cannot be loaded"
  level  = 2
  nist   = ["CM-7", "SI-4"]
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "3.3.1" {
  title  = "no IP forwarding"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-ip-forward"]
}

item "3.3.2" {
  title  = "no ICMP redirects sent"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-send-redirects"]
}

item "3.3.3" {
  title  = "bogus ICMP error replies ignored"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-icmp-bogus-broadcast"]
}

item "3.3.4" {
  title  = "broadcast pings ignored"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-icmp-bogus-broadcast"]
}

item "3.3.5" {
  title  = "ICMP redirects ignored"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "3.3.6" {
  title  = "\"secure\" ICMP redirects ignored"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "3.3.7" {
  title  = "strict reverse path filter"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-rp-filter"]
}

item "3.3.8" {
  title  = "source-routed packets dropped"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "3.3.9" {
  title  = "martian packets logged"
  level  = 1
  nist   = ["AU-3"]
  status = "exception"
  by     = ["sysctl-log-martians"]
  note   = "documented in the profile (sysctl-log-martians): martians are dropped and counted, not logged, so a spoofed flood cannot fill the journal."
}

item "3.3.10" {
  title  = "TCP SYN cookies"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-syncookies"]
}

item "3.3.11" {
  title  = "IPv6 router advertisements ignored"
  level  = 2
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "implemented"
  by     = ["sysctl-accept-ra"]
}

item "4.1.1" {
  title  = "one firewall tool only"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.2.1" {
  title  = "ufw package"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.2.2" {
  title  = "ufw without iptables-persistent"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.2.3" {
  title  = "ufw enabled"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.2.4" {
  title  = "ufw loopback rules"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.2.5" {
  title  = "ufw outbound rules"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.2.6" {
  title  = "ufw rule per open port"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.2.7" {
  title  = "ufw default deny"
  level  = 1
  nist   = ["SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.3.1" {
  title  = "nftables package"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.2" {
  title  = "no ufw beside nftables"
  level  = 1
  status = "open"
  note   = "neither ufw nor iptables is in the image, but no control checks their absence"
}

item "4.3.3" {
  title  = "no iptables rules beside nftables"
  level  = 1
  status = "open"
  note   = "neither ufw nor iptables is in the image, but no control checks their absence"
}

item "4.3.4" {
  title  = "an nftables table"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.5" {
  title  = "nftables base chains (input, forward, output)"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.6" {
  title  = "nftables loopback rules"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.7" {
  title  = "nftables outbound and established rules"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.8" {
  title  = "nftables default deny"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.9" {
  title  = "nftables loaded at boot"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.3.10" {
  title  = "nftables ruleset persisted"
  level  = 1
  status = "implemented"
  by     = ["net-nftables-default-deny"]
}

item "4.4.1.1" {
  title  = "iptables packages"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.1.2" {
  title  = "no nftables beside iptables"
  level  = 1
  nist   = ["CA-9", "CM-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.1.3" {
  title  = "no ufw beside iptables"
  level  = 1
  nist   = ["CA-9", "CM-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.2.1" {
  title  = "iptables default deny"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.2.2" {
  title  = "iptables loopback rules"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.2.3" {
  title  = "iptables outbound and established rules"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.2.4" {
  title  = "iptables rule per open port"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.3.1" {
  title  = "ip6tables default deny"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.3.2" {
  title  = "ip6tables loopback rules"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.3.3" {
  title  = "ip6tables outbound and established rules"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "4.4.3.4" {
  title  = "ip6tables rule per open port"
  level  = 1
  nist   = ["CA-9", "SC-7"]
  status = "not-applicable"
  reason = "nftables-chosen"
}

item "5.1.1" {
  title  = "sshd_config mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.2" {
  title  = "SSH private host key modes"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.3" {
  title  = "SSH public host key modes"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.4" {
  title  = "sshd user/group allow lists"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.5" {
  title  = "sshd banner"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.6" {
  title  = "sshd cipher list"
  level  = 1
  nist   = ["SC-8"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.7" {
  title  = "sshd idle client timeout"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.8" {
  title  = "sshd forwarding off"
  level  = 2
  nist   = ["CM-7"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.9" {
  title  = "sshd GSSAPI off"
  level  = 2
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.10" {
  title  = "sshd host-based auth off"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.11" {
  title  = "sshd ignores .rhosts"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.12" {
  title  = "sshd key exchange list"
  level  = 1
  nist   = ["SC-8"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.13" {
  title  = "sshd login grace time"
  level  = 1
  nist   = ["CM-6"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.14" {
  title  = "sshd log level"
  level  = 1
  nist   = ["AU-3", "AU-12", "SI-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.15" {
  title  = "sshd MAC list"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.16" {
  title  = "sshd auth tries limit"
  level  = 1
  nist   = ["AU-3"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.17" {
  title  = "sshd session limit"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.18" {
  title  = "sshd unauthenticated connection limit"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.19" {
  title  = "sshd refuses empty passwords"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.20" {
  title  = "sshd refuses root"
  level  = 1
  nist   = ["AC-6"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.21" {
  title  = "sshd ignores user environment"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.1.22" {
  title  = "sshd uses PAM"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-4", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-ssh"
}

item "5.2.1" {
  title  = "sudo package"
  level  = 1
  nist   = ["AC-6"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "5.2.2" {
  title  = "sudo runs commands in a pty"
  level  = 1
  nist   = ["AC-6"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "5.2.3" {
  title  = "sudo writes its own log"
  level  = 1
  nist   = ["AU-3", "AU-12"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "5.2.4" {
  title  = "sudo asks for a password"
  level  = 2
  nist   = ["AC-6"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "5.2.5" {
  title  = "sudo re-authentication not globally off"
  level  = 1
  nist   = ["AC-6"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "5.2.6" {
  title  = "sudo credential cache timeout"
  level  = 1
  nist   = ["AC-6"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "5.2.7" {
  title  = "su limited to a group"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["sw-no-suid"]
  note   = "su is not SUID (no SUID file at all), so it cannot change user"
}

item "5.3.1.1" {
  title  = "PAM up to date"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.1.2" {
  title  = "PAM modules package"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.1.3" {
  title  = "pwquality package"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.2.1" {
  title  = "pam_unix in the stack"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.2.2" {
  title  = "pam_faillock in the stack"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.2.3" {
  title  = "pam_pwquality in the stack"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.2.4" {
  title  = "pam_pwhistory in the stack"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.1.1" {
  title  = "lockout after failed logins"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.1.2" {
  title  = "lockout release time"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.1.3" {
  title  = "lockout applies to root"
  level  = 2
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.1" {
  title  = "new password differs by N characters"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.2" {
  title  = "password minimum length"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.3" {
  title  = "password character classes"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.4" {
  title  = "password repeated characters limit"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.5" {
  title  = "password sequence limit"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.6" {
  title  = "password dictionary check"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.7" {
  title  = "password quality enforced"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.2.8" {
  title  = "password quality enforced for root"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.3.1" {
  title  = "password history length"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.3.2" {
  title  = "password history applies to root"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.3.3" {
  title  = "pam_pwhistory use_authtok"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.4.1" {
  title  = "pam_unix without nullok"
  level  = 1
  status = "implemented"
  by     = ["accounts-no-passwords"]
  note   = "no account has an empty password, so nullok admits nobody"
}

item "5.3.3.4.2" {
  title  = "pam_unix without remember"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.4.3" {
  title  = "pam_unix strong hash"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.3.3.4.4" {
  title  = "pam_unix use_authtok"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.1.1" {
  title  = "password maximum age"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.1.2" {
  title  = "password minimum age"
  level  = 2
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.1.3" {
  title  = "password expiry warning"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.1.4" {
  title  = "strong password hash in login.defs"
  level  = 1
  nist   = ["IA-5"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.1.5" {
  title  = "lock after password inactivity"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.1.6" {
  title  = "no password change dates in the future"
  level  = 1
  status = "not-applicable"
  reason = "no-passwords"
}

item "5.4.2.1" {
  title  = "only root has UID 0"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "5.4.2.2" {
  title  = "only root has GID 0"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "5.4.2.3" {
  title  = "only group root has GID 0"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "5.4.2.4" {
  title  = "root login controlled (locked or password set)"
  level  = 1
  status = "implemented"
  by     = ["accounts-root-locked"]
}

item "5.4.2.5" {
  title  = "root PATH safe"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-logins"
}

item "5.4.2.6" {
  title  = "root umask"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-logins"
}

item "5.4.2.7" {
  title  = "system accounts have no login shell"
  level  = 1
  nist   = ["AC-2", "AC-3", "AC-11", "MP-2"]
  status = "implemented"
  by     = ["accounts-nologin"]
}

item "5.4.2.8" {
  title  = "accounts without a shell are locked"
  level  = 1
  nist   = ["AC-2", "AC-3", "AC-11", "MP-2"]
  status = "implemented"
  by     = ["accounts-no-passwords"]
}

item "5.4.3.1" {
  title  = "nologin not a listed shell"
  level  = 2
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "5.4.3.2" {
  title  = "shell idle timeout"
  level  = 1
  status = "not-applicable"
  reason = "no-logins"
}

item "5.4.3.3" {
  title  = "default umask"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-logins"
}

item "6.1.1.1" {
  title  = "journald running"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "implemented"
  by     = ["log-journald"]
  note   = "journald is part of systemd and always runs; log-journald checks its configuration"
}

item "6.1.1.2" {
  title  = "journal file modes"
  level  = 1
  nist   = ["AU-2", "AU-3", "AU-12", "SI-5", "MP-2"]
  status = "open"
}

item "6.1.1.3" {
  title  = "journal size bounded and rotated"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "implemented"
  by     = ["log-journald"]
}

item "6.1.1.4" {
  title  = "a single logging system"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "implemented"
  by     = ["log-journald"]
}

item "6.1.2.1.1" {
  title  = "journal-remote package"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "open"
  note   = "logs are not shipped off the appliance yet (the management listener serves audit results and metrics only)"
}

item "6.1.2.1.2" {
  title  = "journal-upload authenticated"
  level  = 1
  nist   = ["AU-2", "AU-12"]
  status = "open"
  note   = "logs are not shipped off the appliance yet (the management listener serves audit results and metrics only)"
}

item "6.1.2.1.3" {
  title  = "journal-upload enabled"
  level  = 1
  nist   = ["AU-2", "AU-12"]
  status = "open"
  note   = "logs are not shipped off the appliance yet (the management listener serves audit results and metrics only)"
}

item "6.1.2.1.4" {
  title  = "no journal-remote listener"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "implemented"
  by     = ["svc-enabled-allowlist"]
}

item "6.1.2.2" {
  title  = "journald does not forward to syslog"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "implemented"
  by     = ["log-journald"]
}

item "6.1.2.3" {
  title  = "journal compressed"
  level  = 1
  nist   = ["AU-4"]
  status = "implemented"
  by     = ["log-journald"]
}

item "6.1.2.4" {
  title  = "journal stored persistently"
  level  = 1
  nist   = ["AU-3", "AU-12"]
  status = "implemented"
  by     = ["log-journald"]
}

item "6.1.3.1" {
  title  = "rsyslog package"
  level  = 1
  nist   = ["AU-2", "AU-3", "AU-12"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.2" {
  title  = "rsyslog enabled"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.3" {
  title  = "journald forwards to rsyslog"
  level  = 1
  nist   = ["AC-3", "AU-2", "AU-4", "AU-12", "MP-2"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.4" {
  title  = "rsyslog file mode"
  level  = 1
  nist   = ["AC-3", "AC-6", "MP-2"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.5" {
  title  = "rsyslog rules"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.6" {
  title  = "rsyslog forwards to a log host"
  level  = 1
  nist   = ["AU-6"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.7" {
  title  = "rsyslog does not accept remote logs"
  level  = 1
  nist   = ["AU-2", "AU-7", "AU-12", "CM-6"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.3.8" {
  title  = "logrotate"
  level  = 1
  nist   = ["AU-8"]
  status = "not-applicable"
  reason = "journald-only"
}

item "6.1.4.1" {
  title  = "log file modes"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
}

item "6.2.1.1" {
  title  = "auditd and plugins present"
  level  = 2
  nist   = ["AU-2", "AU-3", "AU-12", "SI-5"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.1.2" {
  title  = "auditd enabled"
  level  = 2
  nist   = ["AU-2", "AU-12", "SI-5"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.1.3" {
  title  = "audit=1 on the kernel command line"
  level  = 2
  status = "implemented"
  by     = ["cmdline-audit"]
}

item "6.2.1.4" {
  title  = "audit backlog limit"
  level  = 2
  nist   = ["AU-2", "AU-3", "AU-12"]
  status = "implemented"
  by     = ["cmdline-audit"]
}

item "6.2.2.1" {
  title  = "audit log file size"
  level  = 2
  nist   = ["AU-8"]
  status = "open"
  note   = "auditd.conf is Debian's default; no control sets log size, retention or disk-full actions"
}

item "6.2.2.2" {
  title  = "audit logs kept, not rotated away"
  level  = 2
  nist   = ["AU-8"]
  status = "open"
  note   = "auditd.conf is Debian's default; no control sets log size, retention or disk-full actions"
}

item "6.2.2.3" {
  title  = "halt when audit storage is full"
  level  = 2
  nist   = ["AU-2", "AU-8", "AU-12", "SI-5"]
  status = "open"
  note   = "auditd.conf is Debian's default; no control sets log size, retention or disk-full actions"
}

item "6.2.2.4" {
  title  = "warn when audit storage runs low"
  level  = 2
  nist   = ["AU-2", "AU-8", "AU-12", "SI-5"]
  status = "open"
  note   = "auditd.conf is Debian's default; no control sets log size, retention or disk-full actions"
}

item "6.2.3.1" {
  title  = "audit: sudoers changes"
  level  = 2
  nist   = ["AU-3"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "6.2.3.2" {
  title  = "audit: commands run as another user"
  level  = 2
  nist   = ["AU-3"]
  status = "not-applicable"
  reason = "no-sudo"
}

item "6.2.3.3" {
  title  = "audit: sudo log changes"
  level  = 2
  status = "not-applicable"
  reason = "no-sudo"
}

item "6.2.3.4" {
  title  = "audit: clock changes"
  level  = 2
  nist   = ["AU-3", "CM-6"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.3.5" {
  title  = "audit: network configuration changes"
  level  = 2
  nist   = ["AU-3", "CM-6"]
  status = "open"
}

item "6.2.3.6" {
  title  = "audit: privileged program runs"
  level  = 2
  nist   = ["AU-3"]
  status = "not-applicable"
  reason = "no-suid"
}

item "6.2.3.7" {
  title  = "audit: denied file access"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
}

item "6.2.3.8" {
  title  = "audit: user and group database changes"
  level  = 2
  nist   = ["AU-3"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.3.9" {
  title  = "audit: permission and owner changes"
  level  = 2
  nist   = ["AU-3", "CM-6"]
  status = "open"
}

item "6.2.3.10" {
  title  = "audit: mounts"
  level  = 2
  nist   = ["CM-6"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.3.11" {
  title  = "audit: session start"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
}

item "6.2.3.12" {
  title  = "audit: login and logout"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
}

item "6.2.3.13" {
  title  = "audit: file deletion"
  level  = 2
  nist   = ["AU-12", "SC-7"]
  status = "open"
}

item "6.2.3.14" {
  title  = "audit: MAC policy changes"
  level  = 2
  nist   = ["AU-3", "CM-6"]
  status = "not-applicable"
  reason = "no-mac"
}

item "6.2.3.15" {
  title  = "audit: chcon runs"
  level  = 2
  nist   = ["AU-2", "AU-12", "SI-5"]
  status = "not-applicable"
  reason = "no-mac"
}

item "6.2.3.16" {
  title  = "audit: setfacl runs"
  level  = 2
  nist   = ["AU-2", "AU-12", "SI-5"]
  status = "open"
}

item "6.2.3.17" {
  title  = "audit: chacl runs"
  level  = 2
  nist   = ["AU-2", "AU-12", "SI-5"]
  status = "open"
}

item "6.2.3.18" {
  title  = "audit: usermod runs"
  level  = 2
  nist   = ["AU-2", "AU-12", "SI-5"]
  status = "open"
}

item "6.2.3.19" {
  title  = "audit: module load and unload"
  level  = 2
  nist   = ["AU-3", "CM-6"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.3.20" {
  title  = "audit rules immutable (-e 2)"
  level  = 2
  nist   = ["AC-3", "AU-3", "MP-2"]
  status = "implemented"
  by     = ["audit-rules"]
}

item "6.2.3.21" {
  title  = "loaded audit rules match the files"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
}

item "6.2.4.1" {
  title  = "audit log file mode"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.2" {
  title  = "audit log file owner"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.3" {
  title  = "audit log file group"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.4" {
  title  = "audit log directory mode"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.5" {
  title  = "audit configuration file modes"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.6" {
  title  = "audit configuration file owner"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.7" {
  title  = "audit configuration file group"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.8" {
  title  = "audit tool modes"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.9" {
  title  = "audit tool owner"
  level  = 2
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.2.4.10" {
  title  = "audit tool group"
  level  = 2
  nist   = ["AU-3"]
  status = "open"
  note   = "modes come from the package and the root is read-only, but no control checks them"
}

item "6.3.1" {
  title  = "AIDE present"
  level  = 1
  status = "exception"
  by     = ["fs-root-verity"]
  note   = "AIDE re-hashes files that cannot change: the root is erofs verified block by block by dm-verity against the root hash in the signed UKI (fs-root-verity). /var, the only writable file system, holds state, not programs."
}

item "6.3.2" {
  title  = "file integrity checked regularly"
  level  = 1
  nist   = ["AU-2"]
  status = "exception"
  by     = ["fs-root-verity"]
  note   = "dm-verity checks every block of the root on every read, which is continuous, not periodic (fs-root-verity)."
}

item "6.3.3" {
  title  = "audit tools integrity protected"
  level  = 1
  status = "exception"
  by     = ["fs-root-verity"]
  note   = "the audit tools are on the dm-verity root (fs-root-verity); a changed tool fails verification."
}

item "7.1.1" {
  title  = "/etc/passwd owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-world-readable"]
}

item "7.1.2" {
  title  = "/etc/passwd- owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-world-readable"]
}

item "7.1.3" {
  title  = "/etc/group owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-world-readable"]
}

item "7.1.4" {
  title  = "/etc/group- owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-world-readable"]
}

item "7.1.5" {
  title  = "/etc/shadow owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-secret"]
}

item "7.1.6" {
  title  = "/etc/shadow- owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-secret"]
}

item "7.1.7" {
  title  = "/etc/gshadow owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-secret"]
}

item "7.1.8" {
  title  = "/etc/gshadow- owner and mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "implemented"
  by     = ["fs-account-db-secret"]
}

item "7.1.9" {
  title  = "/etc/shells mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
}

item "7.1.10" {
  title  = "/etc/security/opasswd mode"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "not-applicable"
  reason = "no-passwords"
}

item "7.1.11" {
  title  = "world-writable files and directories"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
}

item "7.1.12" {
  title  = "no unowned files"
  level  = 1
  nist   = ["AC-3", "MP-2"]
  status = "open"
}

item "7.1.13" {
  title  = "SUID/SGID files reviewed"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5", "AC-3", "MP-2"]
  status = "implemented"
  by     = ["sw-no-suid"]
}

item "7.2.1" {
  title  = "passwords only in shadow"
  level  = 1
  nist   = ["IA-5"]
  status = "open"
}

item "7.2.2" {
  title  = "no empty password fields"
  level  = 1
  nist   = ["IA-5"]
  status = "implemented"
  by     = ["accounts-no-passwords"]
}

item "7.2.3" {
  title  = "every primary group exists"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "7.2.4" {
  title  = "shadow group has no members"
  level  = 1
  nist   = ["IA-5"]
  status = "open"
}

item "7.2.5" {
  title  = "no duplicate UIDs"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "7.2.6" {
  title  = "no duplicate GIDs"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "7.2.7" {
  title  = "no duplicate user names"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "7.2.8" {
  title  = "no duplicate group names"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "open"
}

item "7.2.9" {
  title  = "interactive users' home directories"
  level  = 1
  status = "not-applicable"
  reason = "no-interactive-users"
}

item "7.2.10" {
  title  = "interactive users' dot files"
  level  = 1
  nist   = ["CM-1", "CM-2", "CM-6", "CM-7", "IA-5"]
  status = "not-applicable"
  reason = "no-interactive-users"
}
