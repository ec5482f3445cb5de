# DISA STIG: there is no STIG for Debian. Controls cite the nearest rule of
# the Red Hat Enterprise Linux 8 STIG (RHEL-08-xxxxxx, as ComplianceAsCode's
# RHEL 8 STIG profile maps them). That STIG has some 370 rules, most of them
# about RHEL's own tooling (rpm/dnf, fapolicyd, SSSD, FIPS mode, GNOME, sshd,
# PAM password policy), so coverage of the whole STIG is out of scope: this
# file lists only the rules the profile cites, so that every cited id is
# declared once, and `appliance-audit coverage` reports it as cross-references,
# without a percentage. Titles are ours: the control each rule stands nearest to.

reference "stig" {
  title = "DISA STIG (nearest: RHEL 8 STIG), cited rules only"
  scope = "cited-only"
}

item "RHEL-08-010372" {
  title  = "nearest rule to: Disable kexec"
  status = "implemented"
  by     = ["sysctl-kexec-disabled"]
}

item "RHEL-08-010373" {
  title  = "nearest rule to: Protected links, FIFOs and regular files in sticky directories"
  status = "implemented"
  by     = ["sysctl-fs-protected"]
}

item "RHEL-08-010374" {
  title  = "nearest rule to: Protected links, FIFOs and regular files in sticky directories"
  status = "implemented"
  by     = ["sysctl-fs-protected"]
}

item "RHEL-08-010375" {
  title  = "nearest rule to: Restrict the kernel log to privileged users"
  status = "implemented"
  by     = ["sysctl-dmesg-restrict"]
}

item "RHEL-08-010376" {
  title  = "nearest rule to: Deny perf events to unprivileged users"
  status = "implemented"
  by     = ["sysctl-perf-event-paranoid"]
}

item "RHEL-08-010422" {
  title  = "nearest rule to: Remove the legacy vsyscall page"
  status = "implemented"
  by     = ["cmdline-vsyscall-none"]
}

item "RHEL-08-010430" {
  title  = "nearest rule to: Full address space layout randomisation"
  status = "implemented"
  by     = ["sysctl-aslr"]
}

item "RHEL-08-010671" {
  title  = "nearest rule to: No core dumps of privileged or any processes"
  status = "implemented"
  by     = ["sysctl-core-dumps"]
}

item "RHEL-08-010672" {
  title  = "nearest rule to: systemd-coredump stores nothing"
  status = "implemented"
  by     = ["svc-coredump-off"]
}

item "RHEL-08-010674" {
  title  = "nearest rule to: systemd-coredump stores nothing"
  status = "implemented"
  by     = ["svc-coredump-off"]
}

item "RHEL-08-020331" {
  title  = "nearest rule to: No account has a password"
  status = "implemented"
  by     = ["accounts-no-passwords"]
}

item "RHEL-08-030121" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030130" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030150" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030160" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030170" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030180" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030181" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030360" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030380" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030390" {
  title  = "nearest rule to: Audit rules: bpf, module loading, identity, time, mounts, immutable"
  status = "implemented"
  by     = ["audit-rules"]
}

item "RHEL-08-030601" {
  title  = "nearest rule to: Audit processes that start before the audit daemon"
  status = "implemented"
  by     = ["cmdline-audit"]
}

item "RHEL-08-030602" {
  title  = "nearest rule to: Audit processes that start before the audit daemon"
  status = "implemented"
  by     = ["cmdline-audit"]
}

item "RHEL-08-040004" {
  title  = "nearest rule to: Always enable kernel page table isolation"
  status = "implemented"
  by     = ["cmdline-pti"]
}

item "RHEL-08-040021" {
  title  = "nearest rule to: Unused network protocol modules cannot be loaded"
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "RHEL-08-040022" {
  title  = "nearest rule to: Unused network protocol modules cannot be loaded"
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "RHEL-08-040023" {
  title  = "nearest rule to: Unused network protocol modules cannot be loaded"
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "RHEL-08-040024" {
  title  = "nearest rule to: Unused network protocol modules cannot be loaded"
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "RHEL-08-040025" {
  title  = "nearest rule to: Unused filesystem modules cannot be loaded"
  status = "implemented"
  by     = ["modules-unused-filesystems"]
}

item "RHEL-08-040026" {
  title  = "nearest rule to: USB storage cannot be loaded"
  status = "implemented"
  by     = ["modules-usb-storage"]
}

item "RHEL-08-040080" {
  title  = "nearest rule to: USB storage cannot be loaded"
  status = "implemented"
  by     = ["modules-usb-storage"]
}

item "RHEL-08-040111" {
  title  = "nearest rule to: Unused network protocol modules cannot be loaded"
  status = "implemented"
  by     = ["modules-unused-protocols"]
}

item "RHEL-08-040120" {
  title  = "nearest rule to: /dev/shm has nodev,nosuid,noexec"
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "RHEL-08-040121" {
  title  = "nearest rule to: /dev/shm has nodev,nosuid,noexec"
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "RHEL-08-040122" {
  title  = "nearest rule to: /dev/shm has nodev,nosuid,noexec"
  status = "implemented"
  by     = ["fs-dev-shm"]
}

item "RHEL-08-040123" {
  title  = "nearest rule to: /tmp is a tmpfs with nodev,nosuid,noexec"
  status = "implemented"
  by     = ["fs-tmp"]
}

item "RHEL-08-040124" {
  title  = "nearest rule to: /tmp is a tmpfs with nodev,nosuid,noexec"
  status = "implemented"
  by     = ["fs-tmp"]
}

item "RHEL-08-040125" {
  title  = "nearest rule to: /tmp is a tmpfs with nodev,nosuid,noexec"
  status = "implemented"
  by     = ["fs-tmp"]
}

item "RHEL-08-040170" {
  title  = "nearest rule to: Ctrl-Alt-Del and the debug shell are masked"
  status = "implemented"
  by     = ["svc-masked"]
}

item "RHEL-08-040180" {
  title  = "nearest rule to: Ctrl-Alt-Del and the debug shell are masked"
  status = "implemented"
  by     = ["svc-masked"]
}

item "RHEL-08-040209" {
  title  = "nearest rule to: Accept no ICMP redirects, secure or not"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "RHEL-08-040210" {
  title  = "nearest rule to: Accept no ICMP redirects, secure or not"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "RHEL-08-040220" {
  title  = "nearest rule to: Do not send ICMP redirects"
  status = "implemented"
  by     = ["sysctl-send-redirects"]
}

item "RHEL-08-040230" {
  title  = "nearest rule to: Ignore bogus ICMP errors and broadcast echo"
  status = "implemented"
  by     = ["sysctl-icmp-bogus-broadcast"]
}

item "RHEL-08-040239" {
  title  = "nearest rule to: Accept no source-routed packets"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "RHEL-08-040240" {
  title  = "nearest rule to: Accept no source-routed packets"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "RHEL-08-040249" {
  title  = "nearest rule to: Accept no source-routed packets"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "RHEL-08-040250" {
  title  = "nearest rule to: Accept no source-routed packets"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "RHEL-08-040260" {
  title  = "nearest rule to: No IP forwarding"
  status = "implemented"
  by     = ["sysctl-ip-forward"]
}

item "RHEL-08-040261" {
  title  = "nearest rule to: Kernel accepts no IPv6 router advertisements"
  status = "implemented"
  by     = ["sysctl-accept-ra"]
}

item "RHEL-08-040262" {
  title  = "nearest rule to: Kernel accepts no IPv6 router advertisements"
  status = "implemented"
  by     = ["sysctl-accept-ra"]
}

item "RHEL-08-040270" {
  title  = "nearest rule to: Do not send ICMP redirects"
  status = "implemented"
  by     = ["sysctl-send-redirects"]
}

item "RHEL-08-040279" {
  title  = "nearest rule to: Accept no ICMP redirects, secure or not"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "RHEL-08-040280" {
  title  = "nearest rule to: Accept no ICMP redirects, secure or not"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "RHEL-08-040281" {
  title  = "nearest rule to: BPF: no unprivileged use, JIT hardened"
  status = "implemented"
  by     = ["sysctl-bpf-restrict"]
}

item "RHEL-08-040282" {
  title  = "nearest rule to: Forbid ptrace entirely"
  status = "implemented"
  by     = ["sysctl-yama-ptrace"]
}

item "RHEL-08-040283" {
  title  = "nearest rule to: Hide kernel pointers from everyone"
  status = "implemented"
  by     = ["sysctl-kptr-restrict"]
}

item "RHEL-08-040284" {
  title  = "nearest rule to: No unprivileged user namespaces"
  status = "implemented"
  by     = ["sysctl-unprivileged-userns"]
}

item "RHEL-08-040285" {
  title  = "nearest rule to: Strict reverse path filtering"
  status = "implemented"
  by     = ["sysctl-rp-filter"]
}

item "RHEL-08-040286" {
  title  = "nearest rule to: BPF: no unprivileged use, JIT hardened"
  status = "implemented"
  by     = ["sysctl-bpf-restrict"]
}
