# systemd-analyze security: every check of systemd 257's exposure
# assessment (the same 81 ids in 252), by the name it prints, applied to the
# unit that faces the network, supernode.service (supernode/systemd/). An item
# is implemented when `systemd-analyze security --offline=yes` (257, trixie
# tools tree) scores it 0 for that unit; svc-exposure keeps the unit's total
# at or below its threshold and svc-supernode-caps checks the bounding set.
# supernode-xdp.service differs by design on CAP_BPF, CAP_NET_ADMIN,
# AF_NETLINK and @privileged (its job is attaching XDP programs).

reference "systemd-analyze" {
  title = "systemd-analyze security (systemd 257), supernode.service"
  scope = "complete"
}

reason "public-udp-server" {
  text = "supernode is a UDP server for the whole Internet: it needs INET/INET6 sockets and must accept any source address; sources are filtered by the XDP filter and nftables, not by the unit."
}

reason "needs-unix-sockets" {
  text = "sd_notify, the journal and the report socket to the XDP controller are AF_UNIX sockets."
}

item "SystemCallFilter=~@swap" {
  title  = "syscall group @swap filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@resources" {
  title  = "syscall group @resources filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@reboot" {
  title  = "syscall group @reboot filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@raw-io" {
  title  = "syscall group @raw-io filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@privileged" {
  title  = "syscall group @privileged filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@obsolete" {
  title  = "syscall group @obsolete filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@mount" {
  title  = "syscall group @mount filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@module" {
  title  = "syscall group @module filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@debug" {
  title  = "syscall group @debug filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@cpu-emulation" {
  title  = "syscall group @cpu-emulation filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "SystemCallFilter=~@clock" {
  title  = "syscall group @clock filtered"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RemoveIPC=" {
  title  = "IPC objects removed at stop"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RootDirectory=/RootImage=" {
  title  = "own root directory or image"
  status = "open"
  note   = "the binary is static and could run from an empty root; not done yet (exposure 0.1)"
}

item "SupplementaryGroups=" {
  title  = "no supplementary groups"
  status = "open"
  note   = "not set yet (exposure 0.1)"
}

item "User=/DynamicUser=" {
  title  = "not root (own or dynamic user)"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictRealtime=" {
  title  = "no realtime scheduling"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_SYS_TIME" {
  title  = "CAP_SYS_TIME not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "NoNewPrivileges=" {
  title  = "no privilege gain on exec"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "AmbientCapabilities=" {
  title  = "no ambient capabilities"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_BPF" {
  title  = "CAP_BPF not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "SystemCallArchitectures=" {
  title  = "native syscall ABI only"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictAddressFamilies=~AF_UNIX" {
  title  = "no AF_UNIX sockets"
  status = "not-applicable"
  reason = "needs-unix-sockets"
}

item "RestrictAddressFamilies=~AF_(INET|INET6)" {
  title  = "no AF_(INET|INET6) sockets"
  status = "not-applicable"
  reason = "public-udp-server"
}

item "ProtectSystem=" {
  title  = "/usr, /boot, /etc read-only"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "ProtectProc=" {
  title  = "other processes hidden in /proc"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_SYS_RAWIO" {
  title  = "CAP_SYS_RAWIO not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SYS_PTRACE" {
  title  = "CAP_SYS_PTRACE not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SYS_(NICE|RESOURCE)" {
  title  = "CAP_SYS_NICE, RESOURCE not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_NET_ADMIN" {
  title  = "CAP_NET_ADMIN not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)" {
  title  = "CAP_NET_BIND_SERVICE, BROADCAST, RAW not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_AUDIT_*" {
  title  = "CAP_AUDIT_* not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SYS_ADMIN" {
  title  = "CAP_SYS_ADMIN not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "PrivateTmp=" {
  title  = "private /tmp"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "ProcSubset=" {
  title  = "/proc limited to process entries"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_SYSLOG" {
  title  = "CAP_SYSLOG not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "ProtectHome=" {
  title  = "no access to home directories"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "PrivateDevices=" {
  title  = "no physical devices"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "PrivateNetwork=" {
  title  = "no network"
  status = "not-applicable"
  reason = "public-udp-server"
}

item "PrivateUsers=" {
  title  = "own user namespace"
  status = "open"
  note   = "not set yet (exposure 0.2)"
}

item "DeviceAllow=" {
  title  = "device access list"
  status = "open"
  note   = "PrivateDevices= is set; an explicit empty DeviceAllow= is not (exposure 0.1)"
}

item "KeyringMode=" {
  title  = "private kernel keyring"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "Delegate=" {
  title  = "no cgroup delegation"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "IPAddressDeny=" {
  title  = "IP address deny list"
  status = "not-applicable"
  reason = "public-udp-server"
}

item "NotifyAccess=" {
  title  = "sd_notify from the main process only"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "ProtectClock=" {
  title  = "cannot set the clock"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_SYS_PACCT" {
  title  = "CAP_SYS_PACCT not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_KILL" {
  title  = "CAP_KILL not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "ProtectKernelLogs=" {
  title  = "cannot read kernel log"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_WAKE_ALARM" {
  title  = "CAP_WAKE_ALARM not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)" {
  title  = "CAP_DAC_*, FOWNER, IPC_OWNER not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "ProtectControlGroups=" {
  title  = "cgroup tree read-only"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_LINUX_IMMUTABLE" {
  title  = "CAP_LINUX_IMMUTABLE not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_IPC_LOCK" {
  title  = "CAP_IPC_LOCK not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "ProtectKernelModules=" {
  title  = "cannot load modules"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_SYS_MODULE" {
  title  = "CAP_SYS_MODULE not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SYS_TTY_CONFIG" {
  title  = "CAP_SYS_TTY_CONFIG not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SYS_BOOT" {
  title  = "CAP_SYS_BOOT not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SYS_CHROOT" {
  title  = "CAP_SYS_CHROOT not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "PrivateMounts=" {
  title  = "private mount namespace"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_BLOCK_SUSPEND" {
  title  = "CAP_BLOCK_SUSPEND not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "MemoryDenyWriteExecute=" {
  title  = "no writable+executable memory"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictNamespaces=~user" {
  title  = "no new user namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictNamespaces=~pid" {
  title  = "no new pid namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictNamespaces=~net" {
  title  = "no new net namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictNamespaces=~uts" {
  title  = "no new uts namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictNamespaces=~mnt" {
  title  = "no new mnt namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_LEASE" {
  title  = "CAP_LEASE not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_MKNOD" {
  title  = "CAP_MKNOD not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "RestrictNamespaces=~cgroup" {
  title  = "no new cgroup namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictNamespaces=~ipc" {
  title  = "no new ipc namespaces"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "ProtectHostname=" {
  title  = "cannot change hostname"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)" {
  title  = "CAP_CHOWN, FSETID, SETFCAP not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)" {
  title  = "CAP_SETUID, GID, PCAP not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "LockPersonality=" {
  title  = "execution domain locked"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "ProtectKernelTunables=" {
  title  = "/proc/sys and /sys read-only"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictAddressFamilies=~AF_PACKET" {
  title  = "no AF_PACKET sockets"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictAddressFamilies=~AF_NETLINK" {
  title  = "no AF_NETLINK sockets"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "RestrictAddressFamilies=~…" {
  title  = "no … sockets"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "CapabilityBoundingSet=~CAP_MAC_*" {
  title  = "CAP_MAC_* not in the bounding set"
  status = "implemented"
  by     = ["svc-exposure", "svc-supernode-caps"]
}

item "RestrictSUIDSGID=" {
  title  = "cannot create SUID/SGID files"
  status = "implemented"
  by     = ["svc-exposure"]
}

item "UMask=" {
  title  = "restrictive umask"
  status = "implemented"
  by     = ["svc-exposure"]
}
