# Supernode Appliance hardening profile.
#
# One control per block. Every control says what it enforces (title), why
# (rationale), where the recommendation comes from (references: KSPP
# recommended settings, CIS Debian Linux 12 Benchmark v1.1.0 section ids,
# DISA STIG ids where one exists: there is no Debian STIG, so the nearest
# RHEL 8 STIG rule), how bad a miss is (severity), how the
# image builder applies it (apply, see hardening/methods.go) and how the
# audit verifies it (check). A deliberate deviation from a reference is an
# exception block with its justification and the controls that compensate.
#
# Bump version on every change: images record the version they were
# hardened with and the audit reports both.

version = "1.3.0"
name    = "supernode-appliance"

# ---------------------------------------------------------------- kernel command line

control "cmdline-init-on-alloc-free" {
  title     = "Zero memory on allocation and on free"
  rationale = "Clears heap and page allocations so freed secrets and uninitialised memory cannot leak into new objects (info leaks, use-after-free exploitation)."
  severity  = "medium"
  references {
    kspp = ["cmdline init_on_alloc=1", "cmdline init_on_free=1"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { init_on_alloc = "1", init_on_free = "1" }
}

control "cmdline-slab-nomerge" {
  title     = "Do not merge slab caches"
  rationale = "Separate slab caches keep a heap overflow in one object type from reaching objects of another type."
  severity  = "medium"
  references {
    kspp = ["cmdline slab_nomerge"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { slab_nomerge = "" }
}

control "cmdline-page-alloc-shuffle" {
  title     = "Randomise the page allocator free lists"
  rationale = "Makes the physical layout of page allocations less predictable for heap grooming."
  severity  = "low"
  references {
    kspp = ["cmdline page_alloc.shuffle=1"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { "page_alloc.shuffle" = "1" }
}

control "cmdline-randomize-kstack" {
  title     = "Randomise the kernel stack offset on every syscall"
  rationale = "Stack-based attacks that rely on a fixed stack layout across syscalls become unreliable."
  severity  = "medium"
  references {
    kspp = ["cmdline randomize_kstack_offset=on"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { randomize_kstack_offset = "on" }
}

control "cmdline-pti" {
  title     = "Always enable kernel page table isolation"
  rationale = "Forces PTI on even where the CPU claims not to need it (Meltdown-class leaks of kernel memory)."
  severity  = "high"
  references {
    kspp = ["cmdline pti=on"]
    stig = ["RHEL-08-040004"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { pti = "on" }
}

control "cmdline-vsyscall-none" {
  title     = "Remove the legacy vsyscall page"
  rationale = "The vsyscall page sits at a fixed address and is a ready-made ROP gadget source; nothing in the appliance uses it."
  severity  = "medium"
  references {
    kspp = ["cmdline vsyscall=none"]
    stig = ["RHEL-08-010422"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { vsyscall = "none" }
}

control "cmdline-ia32-emulation-off" {
  title     = "Disable 32-bit syscall entry points"
  rationale = "The appliance runs only 64-bit static binaries; the compat syscall layer is attack surface with a history of bugs."
  severity  = "low"
  references {
    kspp = ["cmdline ia32_emulation=0"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { ia32_emulation = "0" }
}

control "cmdline-debugfs-off" {
  title     = "Disable debugfs"
  rationale = "debugfs exposes kernel internals and has no access control model; an appliance has no use for it."
  severity  = "medium"
  references {
    kspp = ["cmdline debugfs=off"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { debugfs = "off" }
}

control "cmdline-panic-reboot" {
  title     = "Reboot after a kernel panic"
  rationale = "A panicked appliance serves nobody until someone power-cycles it. panic=10 reboots it after 10 seconds; for a new version on trial that also makes systemd-boot count the failed try, so a kernel that panics falls back to the previous version by itself (image/README.md, Updates)."
  severity  = "medium"
  references {
    other = ["Documentation/admin-guide/kernel-parameters.txt: panic=", "systemd-boot(7) boot counting"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { panic = "10" }
}

control "cmdline-hardened-usercopy" {
  title     = "Check every copy between kernel and user memory"
  rationale = "Hardened usercopy refuses copies that would overflow a heap object or reach kernel text, the step that turns many heap bugs into information leaks or overwrites. It is on by default in the kernels the appliance uses; the token pins it against a changed default."
  severity  = "medium"
  references {
    kspp  = ["cmdline hardened_usercopy=1"]
    other = ["kernel-hardening-checker hardened_usercopy"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { hardened_usercopy = "1" }
}

control "cmdline-kfence" {
  title     = "Sample heap allocations for memory-safety errors (KFENCE)"
  rationale = "KFENCE guards one allocation every 100 ms with guard pages: out-of-bounds and use-after-free bugs hit in production are caught and reported (and, with panic_on_warn off, the offending access faults) at negligible cost."
  severity  = "low"
  references {
    kspp  = ["cmdline kfence.sample_interval=100"]
    other = ["kernel-hardening-checker kfence.sample_interval"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { "kfence.sample_interval" = "100" }
}

control "cmdline-bdev-write-mounted" {
  title     = "No writes to the block device of a mounted filesystem"
  rationale = "Writing under a mounted filesystem's feet corrupts it in ways its driver does not expect, a known route to kernel memory corruption. Nothing on the appliance writes a mounted device: updates write the inactive slot, installs write another disk."
  severity  = "medium"
  references {
    kspp  = ["cmdline bdev_allow_write_mounted=0 (a13xp0p0v)"]
    other = ["Documentation/admin-guide/kernel-parameters.txt: bdev_allow_write_mounted"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { bdev_allow_write_mounted = "0" }
}

control "cmdline-proc-mem-no-force" {
  title     = "/proc/PID/mem cannot override page protections"
  rationale = "FOLL_FORCE writes through /proc/PID/mem ignore read-only mappings: an attacker with a process's privileges can patch its code. Nothing on the appliance debugs processes."
  severity  = "medium"
  references {
    kspp = ["cmdline proc_mem.force_override=never (a13xp0p0v)"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { "proc_mem.force_override" = "never" }
}

control "cmdline-lockdown" {
  title     = "Kernel lockdown in integrity mode"
  rationale = "Stops root from modifying the running kernel (/dev/mem, kexec of unsigned kernels, unsigned modules, bpf_probe_write_user): a compromised service cannot persist in the kernel of a verified-boot image. Confidentiality mode would also block BPF reads the XDP filter does not need, but integrity is the mode the verified boot chain requires."
  severity  = "high"
  references {
    kspp = ["cmdline lockdown=confidentiality (integrity at minimum)"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { lockdown = "integrity" }
}

control "cmdline-lockdown-confidentiality" {
  title     = "Kernel lockdown in confidentiality mode on the command line (deviation: integrity)"
  rationale = "Confidentiality mode also stops root from reading kernel memory (/proc/kcore, BPF reads of kernel memory, perf of the kernel)."
  severity  = "medium"
  references {
    kspp = ["cmdline lockdown=confidentiality"]
  }
  apply    = "none"
  check    = "cmdline"
  settings = { lockdown = "confidentiality" }
  exception {
    justification  = "The hardened kernel forces confidentiality at build time (CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY, which no command line can lower), so there the token would change nothing. The stock kernels run the integrity mode cmdline-lockdown sets, the mode the verified boot chain needs; boot-lockdown-live proves the mode in effect."
    compensated_by = ["boot-lockdown-live"]
  }
}

control "cmdline-module-sig-enforce" {
  title     = "Only load signed kernel modules"
  rationale = "Unsigned modules are kernel code execution; Debian signs its modules, so enforcement costs nothing."
  severity  = "high"
  references {
    kspp = ["cmdline module.sig_enforce=1"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { "module.sig_enforce" = "1" }
}

control "cmdline-iommu" {
  title     = "Enable the IOMMU in strict mode"
  rationale = "DMA from a malicious or compromised device (NIC firmware, Thunderbolt) is confined by the IOMMU; strict mode flushes the IOTLB synchronously so unmapped buffers are not reachable; early PCI DMA is blocked until the IOMMU is up."
  severity  = "medium"
  references {
    kspp = ["cmdline iommu.strict=1", "cmdline iommu.passthrough=0", "cmdline intel_iommu=on", "cmdline amd_iommu=force_isolation", "cmdline efi=disable_early_pci_dma", "cmdline iommu=force"]
    other = ["CLIP OS kernel configuration: iommu=force"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = {
    "iommu.strict"      = "1"
    "iommu.passthrough" = "0"
    intel_iommu         = "on"
    amd_iommu           = "force_isolation"
    efi                 = "disable_early_pci_dma"
    iommu               = "force"
  }
}

control "cmdline-no-weakening" {
  title     = "No command line option that turns a protection off"
  rationale = "Each of these tokens disables a defence the kernel has on by default: address-space randomisation (nokaslr, norandmaps), pointer hashing, SMEP and SMAP, page table isolation, the Spectre and store-bypass mitigations, slab cache separation, the usercopy whitelist, microcode loading or CPU feature bits, or makes SysRq always available. The signed command line carries none of them, and with Secure Boot none can be added."
  severity  = "high"
  references {
    kspp = [
      "cmdline nokaslr is not set",
      "cmdline no_hash_pointers is not set",
      "cmdline nosmep is not set",
      "cmdline nosmap is not set",
      "cmdline dis_ucode_ldr is not set",
      "cmdline setcpuid is not set",
      "cmdline clearcpuid is not set",
      "cmdline nopti is not set",
      "cmdline nospec_store_bypass_disable is not set",
      "cmdline nospectre_v1 is not set",
      "cmdline nospectre_v2 is not set",
      "cmdline nospectre_bhb is not set",
      "cmdline slab_merge is not set",
      "cmdline slub_merge is not set",
      "cmdline slab_common.usercopy_fallback is not set",
      "cmdline sysrq_always_enabled is not set",
      "cmdline norandmaps is not set",
    ]
  }
  apply    = "none"
  check    = "cmdline"
  settings = {
    nokaslr = "is not set"
    no_hash_pointers = "is not set"
    nosmep = "is not set"
    nosmap = "is not set"
    dis_ucode_ldr = "is not set"
    setcpuid = "is not set"
    clearcpuid = "is not set"
    nopti = "is not set"
    nospec_store_bypass_disable = "is not set"
    nospectre_v1 = "is not set"
    nospectre_v2 = "is not set"
    nospectre_bhb = "is not set"
    slab_merge = "is not set"
    slub_merge = "is not set"
    "slab_common.usercopy_fallback" = "is not set"
    sysrq_always_enabled = "is not set"
    norandmaps = "is not set"
  }
}

control "cmdline-tsx-off" {
  title     = "Disable Intel TSX"
  rationale = "TSX enables TAA/ZombieLoad class side channels and is not used by the appliance."
  severity  = "low"
  references {
    kspp = ["cmdline tsx=off"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { tsx = "off" }
}

control "cmdline-nosmt" {
  title     = "Disable SMT (mitigations=auto,nosmt)"
  rationale = "Sibling hyperthreads share caches and buffers (L1TF, MDS); KSPP recommends turning SMT off."
  severity  = "low"
  references {
    kspp = ["cmdline mitigations=auto,nosmt"]
  }
  apply    = "none"
  check    = "cmdline"
  settings = {
    mitigations = "auto,nosmt"
    nosmt       = ""
    spectre_v2 = "auto"
    spectre_v2_user = "auto"
    spectre_bhi = "auto"
    spec_store_bypass_disable = "auto"
    l1tf = "auto"
    mds = "auto"
    tsx_async_abort = "auto"
    srbds = "auto"
    mmio_stale_data = "auto"
    retbleed = "auto"
    spec_rstack_overflow = "auto"
    gather_data_sampling = "auto"
    reg_file_data_sampling = "auto"
    indirect_target_selection = "auto"
    tsa = "auto"
    vmscape = "auto"
  }
  exception {
    justification = "The appliance is single-tenant: it runs only its own two services, so there is no untrusted co-resident workload on a sibling thread, and halving the packet-processing cores would halve XDP throughput. The default mitigations=auto still applies every other CPU mitigation. kernel-hardening-checker also fails each per-issue option (spectre_v2, mds, l1tf, retbleed, ...) because it accepts their absence only together with mitigations=auto,nosmt; absent, each is at the kernel's default, auto (the hardened kernel builds every mitigation in: CONFIG_MITIGATION_*)."
  }
}

control "cmdline-audit" {
  title     = "Audit processes that start before the audit daemon"
  rationale = "audit=1 enables kernel auditing from the first process, and a large backlog keeps early-boot events (bpf, module loads) from being dropped."
  severity  = "medium"
  references {
    cis = ["6.2.1.3", "6.2.1.4"]
    stig = ["RHEL-08-030601", "RHEL-08-030602"]
  }
  apply    = "cmdline"
  check    = "cmdline"
  settings = { audit = "1", audit_backlog_limit = "8192" }
}

# ---------------------------------------------------------------- sysctls

control "sysctl-kptr-restrict" {
  title     = "Hide kernel pointers from everyone"
  rationale = "Kernel addresses in /proc and logs defeat KASLR."
  severity  = "medium"
  references {
    kspp = ["sysctl kernel.kptr_restrict=2"]
    stig = ["RHEL-08-040283"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.kptr_restrict" = "2" }
}

control "sysctl-dmesg-restrict" {
  title     = "Restrict the kernel log to privileged users"
  rationale = "dmesg leaks kernel addresses and device state useful to an attacker."
  severity  = "low"
  references {
    kspp = ["sysctl kernel.dmesg_restrict=1"]
    stig = ["RHEL-08-010375"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.dmesg_restrict" = "1" }
}

control "sysctl-perf-event-paranoid" {
  title     = "Deny perf events to unprivileged users"
  rationale = "perf_event_open is a large attack surface and a side-channel tool; level 3 (Debian) denies it to unprivileged users entirely."
  severity  = "medium"
  references {
    kspp = ["sysctl kernel.perf_event_paranoid=3"]
    stig = ["RHEL-08-010376"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.perf_event_paranoid" = "3" }
}

control "sysctl-kexec-disabled" {
  title     = "Disable kexec"
  rationale = "kexec replaces the verified kernel with an arbitrary one at run time, bypassing the verified boot chain."
  severity  = "high"
  references {
    kspp = ["sysctl kernel.kexec_load_disabled=1"]
    stig = ["RHEL-08-010372"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.kexec_load_disabled" = "1" }
}

control "sysctl-oops-warn-limit" {
  title     = "Panic after 100 oopses or warnings"
  rationale = "An exploit that races or brute-forces a kernel bug oopses or warns many times before it wins; the limits turn that into a panic (and panic=10 reboots the appliance) instead of unlimited tries. The kernel's defaults are 10000 oopses and no warning limit."
  severity  = "medium"
  references {
    kspp = ["sysctl kernel.oops_limit=100", "sysctl kernel.warn_limit=100"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.oops_limit" = "100", "kernel.warn_limit" = "100" }
}

control "sysctl-mmap-rnd-bits" {
  title     = "Most mmap randomisation bits"
  rationale = "The number of random bits in mmap base addresses; x86-64 allows 32 (CONFIG_ARCH_MMAP_RND_BITS_MAX), Debian's default is 28. More bits make guessing a library's address for a return-oriented exploit 16 times harder. The 32-bit compat bits do not exist in the hardened kernel (no IA32 emulation)."
  severity  = "low"
  references {
    kspp = ["sysctl vm.mmap_rnd_bits=MAX"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "vm.mmap_rnd_bits" = "32" }
}

control "sysctl-mmap-min-addr" {
  title     = "No mappings in the lowest 64 KiB"
  rationale = "A kernel NULL-pointer dereference lands in the lowest pages; when no process may map them, such a bug is a crash, not code execution with the attacker's data. 65536 is what both kernels build in (CONFIG_DEFAULT_MMAP_MIN_ADDR); setting it keeps it there whatever the kernel's default."
  severity  = "medium"
  references {
    kspp = ["sysctl vm.mmap_min_addr=65536"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "vm.mmap_min_addr" = "65536" }
}

control "sysctl-yama-ptrace" {
  title     = "Forbid ptrace entirely"
  rationale = "No process on the appliance needs to trace another; scope 3 stops a compromised service from reading another's memory."
  severity  = "medium"
  references {
    kspp = ["sysctl kernel.yama.ptrace_scope=3"]
    cis  = ["1.5.2"]
    stig = ["RHEL-08-040282"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.yama.ptrace_scope" = "3" }
}

control "sysctl-aslr" {
  title     = "Full address space layout randomisation"
  rationale = "Randomises stack, mmap, VDSO and heap so memory corruption exploits cannot rely on fixed addresses."
  severity  = "high"
  references {
    kspp = ["sysctl kernel.randomize_va_space=2"]
    cis  = ["1.5.1"]
    stig = ["RHEL-08-010430"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.randomize_va_space" = "2" }
}

control "sysctl-unprivileged-userns" {
  title     = "No unprivileged user namespaces"
  rationale = "Unprivileged user namespaces expose root-only kernel code paths to unprivileged users and are behind many local privilege escalations; systemd (root) can still create namespaces for service sandboxing."
  severity  = "high"
  references {
    kspp = ["sysctl kernel.unprivileged_userns_clone=0 (Debian)"]
    stig = ["RHEL-08-040284"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.unprivileged_userns_clone" = "0" }
}

control "sysctl-user-namespaces-off" {
  title     = "No user namespaces at all"
  rationale = "A user namespace gives its creator root's powers over what it contains, and with them kernel code paths written for root; that is how many local privilege escalations start. No service on the appliance uses one (no unit sets PrivateUsers=; fstrim.service, the one Debian unit that does, is not enabled), so none may be created, by root either. The hardened kernel is built without user namespaces (CONFIG_USER_NS is not set), but still has this sysctl; with Debian's kernels this closes what kernel.unprivileged_userns_clone leaves to root."
  severity  = "medium"
  references {
    kspp = ["sysctl user.max_user_namespaces=0"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "user.max_user_namespaces" = "0" }
}

control "sysctl-userfaultfd" {
  title     = "No unprivileged userfaultfd"
  rationale = "userfaultfd lets an attacker pause the kernel mid-copy, which turns many race conditions into reliable exploits."
  severity  = "medium"
  references {
    kspp = ["sysctl vm.unprivileged_userfaultfd=0"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "vm.unprivileged_userfaultfd" = "0" }
}

control "sysctl-tty" {
  title     = "No TTY line discipline autoload, no TIOCSTI"
  rationale = "Line discipline autoload loads rarely-used, bug-prone modules on demand; TIOCSTI lets a process inject keystrokes into another's terminal."
  severity  = "medium"
  references {
    kspp = ["sysctl dev.tty.ldisc_autoload=0", "sysctl dev.tty.legacy_tiocsti=0"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "dev.tty.ldisc_autoload" = "0", "dev.tty.legacy_tiocsti" = "0" }
}

control "sysctl-bpf-restrict" {
  title     = "BPF: no unprivileged use, JIT hardened"
  rationale = "Unprivileged BPF has been the entry point of many verifier exploits; constant blinding in the JIT (bpf_jit_harden=2) defeats JIT spraying for every program, privileged ones included."
  severity  = "high"
  references {
    kspp = ["sysctl kernel.unprivileged_bpf_disabled=1", "sysctl net.core.bpf_jit_harden=2"]
    stig = ["RHEL-08-040281", "RHEL-08-040286"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.unprivileged_bpf_disabled" = "1", "net.core.bpf_jit_harden" = "2" }
}

control "sysctl-fs-protected" {
  title     = "Protected links, FIFOs and regular files in sticky directories"
  rationale = "Blocks the classic /tmp symlink, hardlink and FIFO races against privileged processes."
  severity  = "medium"
  references {
    kspp = ["sysctl fs.protected_symlinks=1", "sysctl fs.protected_hardlinks=1", "sysctl fs.protected_fifos=2", "sysctl fs.protected_regular=2"]
    stig = ["RHEL-08-010373", "RHEL-08-010374"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = {
    "fs.protected_symlinks"  = "1"
    "fs.protected_hardlinks" = "1"
    "fs.protected_fifos"     = "2"
    "fs.protected_regular"   = "2"
  }
}

control "sysctl-core-dumps" {
  title     = "No core dumps of privileged or any processes"
  rationale = "Core dumps of a service write its memory (keys, peer table) to disk; suid_dumpable=0 and a core pattern that discards dumps keep them off the appliance."
  severity  = "medium"
  references {
    kspp = ["sysctl fs.suid_dumpable=0"]
    cis  = ["1.5.3"]
    stig = ["RHEL-08-010671"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "fs.suid_dumpable" = "0", "kernel.core_pattern" = "|/bin/false" }
}

control "sysctl-io-uring-disabled" {
  title     = "Disable io_uring"
  rationale = "io_uring has been a steady source of kernel privilege escalations and bypasses seccomp filtering of the syscalls it wraps; the appliance uses plain sockets."
  severity  = "medium"
  references {
    kspp  = ["sysctl kernel.io_uring_disabled=2"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.io_uring_disabled" = "2" }
}

control "sysctl-sysrq" {
  title     = "Disable the magic SysRq key"
  rationale = "SysRq on a serial or virtual console can reboot, kill processes or dump memory without authentication."
  severity  = "low"
  references {
    kspp = ["sysctl kernel.sysrq=0"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "kernel.sysrq" = "0" }
}

control "sysctl-ip-forward" {
  title     = "No IP forwarding"
  rationale = "The appliance is an endpoint, never a router: it introduces peers, it does not relay their traffic."
  severity  = "medium"
  references {
    cis = ["3.3.1"]
    stig = ["RHEL-08-040260"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "net.ipv4.ip_forward" = "0", "net.ipv6.conf.all.forwarding" = "0" }
}

control "sysctl-send-redirects" {
  title     = "Do not send ICMP redirects"
  rationale = "Only routers send redirects; an endpoint sending them can be used to misroute hosts on its link."
  severity  = "low"
  references {
    cis = ["3.3.2"]
    stig = ["RHEL-08-040220", "RHEL-08-040270"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "net.ipv4.conf.all.send_redirects" = "0", "net.ipv4.conf.default.send_redirects" = "0" }
}

control "sysctl-icmp-bogus-broadcast" {
  title     = "Ignore bogus ICMP errors and broadcast echo"
  rationale = "Broadcast echo replies make the host a smurf amplifier; bogus ICMP error responses only fill the log."
  severity  = "low"
  references {
    cis = ["3.3.3", "3.3.4"]
    stig = ["RHEL-08-040230"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "net.ipv4.icmp_ignore_bogus_error_responses" = "1", "net.ipv4.icmp_echo_ignore_broadcasts" = "1" }
}

control "sysctl-accept-redirects" {
  title     = "Accept no ICMP redirects, secure or not"
  rationale = "Redirects let anyone on path rewrite the appliance's routing table (man-in-the-middle)."
  severity  = "medium"
  references {
    cis = ["3.3.5", "3.3.6"]
    stig = ["RHEL-08-040209", "RHEL-08-040210", "RHEL-08-040279", "RHEL-08-040280"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = {
    "net.ipv4.conf.all.accept_redirects"     = "0"
    "net.ipv4.conf.default.accept_redirects" = "0"
    "net.ipv6.conf.all.accept_redirects"     = "0"
    "net.ipv6.conf.default.accept_redirects" = "0"
    "net.ipv4.conf.all.secure_redirects"     = "0"
    "net.ipv4.conf.default.secure_redirects" = "0"
  }
}

control "sysctl-rp-filter" {
  title     = "Strict reverse path filtering"
  rationale = "Drops packets whose source would not be routed back out the interface they came in on: cheap anti-spoofing in front of a service that reflects source addresses."
  severity  = "medium"
  references {
    cis = ["3.3.7"]
    stig = ["RHEL-08-040285"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "net.ipv4.conf.all.rp_filter" = "1", "net.ipv4.conf.default.rp_filter" = "1" }
}

control "sysctl-source-route" {
  title     = "Accept no source-routed packets"
  rationale = "Source routing lets a sender choose the return path and bypass filtering."
  severity  = "medium"
  references {
    cis = ["3.3.8"]
    stig = ["RHEL-08-040239", "RHEL-08-040240", "RHEL-08-040249", "RHEL-08-040250"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = {
    "net.ipv4.conf.all.accept_source_route"     = "0"
    "net.ipv4.conf.default.accept_source_route" = "0"
    "net.ipv6.conf.all.accept_source_route"     = "0"
    "net.ipv6.conf.default.accept_source_route" = "0"
  }
}

control "sysctl-log-martians" {
  title     = "Log martian packets (deviation: counted, not logged)"
  rationale = "CIS asks for packets with impossible source addresses to be logged."
  severity  = "low"
  references {
    cis = ["3.3.9"]
  }
  apply    = "none"
  check    = "sysctl"
  settings = { "net.ipv4.conf.all.log_martians" = "1", "net.ipv4.conf.default.log_martians" = "1" }
  exception {
    justification  = "The appliance faces the Internet and is a target of spoofed floods: logging every martian would let an attacker fill the journal and burn CPU. Strict reverse path filtering drops them, and the XDP filter counts drops by reason in its metrics instead of logging each packet."
    compensated_by = ["sysctl-rp-filter"]
  }
}

control "sysctl-syncookies" {
  title     = "TCP SYN cookies"
  rationale = "Keeps the fleet's TCP gossip port answering under a SYN flood."
  severity  = "medium"
  references {
    cis = ["3.3.10"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "net.ipv4.tcp_syncookies" = "1" }
}

control "sysctl-accept-ra" {
  title     = "Kernel accepts no IPv6 router advertisements"
  rationale = "A rogue RA on the link could redirect all IPv6 traffic; systemd-networkd processes RAs itself where a network file asks for it."
  severity  = "low"
  references {
    cis = ["3.3.11"]
    stig = ["RHEL-08-040261", "RHEL-08-040262"]
  }
  apply    = "sysctl"
  check    = "sysctl"
  settings = { "net.ipv6.conf.all.accept_ra" = "0", "net.ipv6.conf.default.accept_ra" = "0" }
}

# ---------------------------------------------------------------- kernel build (hardened flavour)
#
# The hardened flavour's configuration (image/kernel/hardened.config, merged
# with kernel-hardening-checker's KSPP fragment) as controls: every kconfig
# item of the KSPP catalog the built kernel meets, read from the kernel's
# config in the verified root (offline) or the running kernel's (live).
# kernel = "hardened": Debian's cloud and generic kernels do not meet
# them, and an image of those flavours reports each as an exception naming
# the flavour. The options kernel-hardening-checker accepts through an
# alternative (module signing with no modules at all, STRICT_DEVMEM with
# no /dev/mem, names older than 6.12) are not listed; tests/kernel runs the
# checker itself.

control "kconfig-kspp-self-protection" {
  title     = "Kernel self-protection built in (KSPP, hardened kernel)"
  rationale = "The kernel's own defences against memory corruption are build options: stack protectors and stack erasing, hardened usercopy and slab freelists, structure layout randomisation, memory initialisation, strict kernel memory permissions, refcount and list checks, fortified string functions, bounds sanitising, every CPU vulnerability mitigation. A kernel built without them cannot turn them on later; each option here is one kernel-hardening-checker checks and the hardened flavour's configuration sets."
  severity  = "high"
  references {
    kspp = [
      "kconfig CONFIG_BUG=y",
      "kconfig CONFIG_SLUB_DEBUG=y",
      "kconfig CONFIG_THREAD_INFO_IN_TASK=y",
      "kconfig CONFIG_IOMMU_DEFAULT_PASSTHROUGH is not set",
      "kconfig CONFIG_IOMMU_SUPPORT=y",
      "kconfig CONFIG_STACKPROTECTOR=y",
      "kconfig CONFIG_STACKPROTECTOR_STRONG=y",
      "kconfig CONFIG_STRICT_KERNEL_RWX=y",
      "kconfig CONFIG_INIT_STACK_ALL_ZERO=y",
      "kconfig CONFIG_CPU_MITIGATIONS=y",
      "kconfig CONFIG_RANDOMIZE_BASE=y",
      "kconfig CONFIG_VMAP_STACK=y",
      "kconfig CONFIG_DEBUG_WX=y",
      "kconfig CONFIG_WERROR=y",
      "kconfig CONFIG_X86_MCE=y",
      "kconfig CONFIG_MITIGATION_SPECTRE_V1=y",
      "kconfig CONFIG_MITIGATION_SPECTRE_V2=y",
      "kconfig CONFIG_MITIGATION_SSB=y",
      "kconfig CONFIG_MICROCODE=y",
      "kconfig CONFIG_X86_UMIP=y",
      "kconfig CONFIG_X86_MCE_INTEL=y",
      "kconfig CONFIG_X86_MCE_AMD=y",
      "kconfig CONFIG_MITIGATION_RETPOLINE=y",
      "kconfig CONFIG_MITIGATION_GDS=y",
      "kconfig CONFIG_MITIGATION_RFDS=y",
      "kconfig CONFIG_MITIGATION_SPECTRE_BHI=y",
      "kconfig CONFIG_MITIGATION_MDS=y",
      "kconfig CONFIG_MITIGATION_TAA=y",
      "kconfig CONFIG_MITIGATION_MMIO_STALE_DATA=y",
      "kconfig CONFIG_MITIGATION_L1TF=y",
      "kconfig CONFIG_MITIGATION_RETBLEED=y",
      "kconfig CONFIG_MITIGATION_SRBDS=y",
      "kconfig CONFIG_MITIGATION_TSA=y",
      "kconfig CONFIG_RANDOMIZE_MEMORY=y",
      "kconfig CONFIG_X86_KERNEL_IBT=y",
      "kconfig CONFIG_MITIGATION_RETHUNK=y",
      "kconfig CONFIG_MITIGATION_PAGE_TABLE_ISOLATION=y",
      "kconfig CONFIG_MITIGATION_UNRET_ENTRY=y",
      "kconfig CONFIG_MITIGATION_CALL_DEPTH_TRACKING=y",
      "kconfig CONFIG_MITIGATION_IBPB_ENTRY=y",
      "kconfig CONFIG_MITIGATION_IBRS_ENTRY=y",
      "kconfig CONFIG_MITIGATION_SRSO=y",
      "kconfig CONFIG_MITIGATION_ITS=y",
      "kconfig CONFIG_INTEL_IOMMU=y",
      "kconfig CONFIG_AMD_IOMMU=y",
      "kconfig CONFIG_RANDOM_KMALLOC_CACHES=y",
      "kconfig CONFIG_SLAB_BUCKETS=y",
      "kconfig CONFIG_SLAB_MERGE_DEFAULT is not set",
      "kconfig CONFIG_BUG_ON_DATA_CORRUPTION=y",
      "kconfig CONFIG_SLAB_FREELIST_HARDENED=y",
      "kconfig CONFIG_SLAB_FREELIST_RANDOM=y",
      "kconfig CONFIG_SHUFFLE_PAGE_ALLOCATOR=y",
      "kconfig CONFIG_FORTIFY_SOURCE=y",
      "kconfig CONFIG_DEBUG_VIRTUAL=y",
      "kconfig CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y",
      "kconfig CONFIG_STATIC_USERMODEHELPER=y",
      "kconfig CONFIG_SECURITY_LOCKDOWN_LSM=y",
      "kconfig CONFIG_SECURITY_LOCKDOWN_LSM_EARLY=y",
      "kconfig CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y",
      "kconfig CONFIG_DEBUG_SG=y",
      "kconfig CONFIG_ZERO_CALL_USED_REGS=y",
      "kconfig CONFIG_DEBUG_NOTIFIERS=y",
      "kconfig CONFIG_KFENCE=y",
      "kconfig CONFIG_KFENCE_SAMPLE_INTERVAL=100",
      "kconfig CONFIG_RANDSTRUCT_FULL=y",
      "kconfig CONFIG_HARDENED_USERCOPY=y",
      "kconfig CONFIG_HARDENED_USERCOPY_FALLBACK is not set",
      "kconfig CONFIG_HARDENED_USERCOPY_PAGESPAN is not set",
      "kconfig CONFIG_GCC_PLUGIN_LATENT_ENTROPY=y",
      "kconfig CONFIG_INIT_ON_FREE_DEFAULT_ON=y",
      "kconfig CONFIG_EFI_DISABLE_PCI_DMA=y",
      "kconfig CONFIG_RESET_ATTACK_MITIGATION=y",
      "kconfig CONFIG_UBSAN_BOUNDS=y",
      "kconfig CONFIG_UBSAN_TRAP=y",
      "kconfig CONFIG_SCHED_STACK_END_CHECK=y",
      "kconfig CONFIG_KSTACK_ERASE_METRICS is not set",
      "kconfig CONFIG_KSTACK_ERASE_RUNTIME_DISABLE is not set",
      "kconfig CONFIG_SCHED_CORE=y",
      "kconfig CONFIG_LIST_HARDENED=y",
      "kconfig CONFIG_RANDOMIZE_KSTACK_OFFSET_DEFAULT=y",
      "kconfig CONFIG_PAGE_TABLE_CHECK=y",
      "kconfig CONFIG_PAGE_TABLE_CHECK_ENFORCED=y",
      "kconfig CONFIG_DEFAULT_MMAP_MIN_ADDR=65536",
      "kconfig CONFIG_HW_RANDOM_TPM=y",
      "kconfig CONFIG_IOMMU_DEFAULT_DMA_STRICT=y",
      "kconfig CONFIG_IOMMU_DEFAULT_DMA_LAZY is not set",
      "kconfig CONFIG_INTEL_IOMMU_DEFAULT_ON=y",
      "kconfig CONFIG_MITIGATION_SLS=y",
      "kconfig CONFIG_INTEL_IOMMU_SVM=y",
    ]
  }
  apply  = "none"
  check  = "kconfig"
  kernel = "hardened"
  settings = {
    CONFIG_BUG                                    = "y"
    CONFIG_SLUB_DEBUG                             = "y"
    CONFIG_THREAD_INFO_IN_TASK                    = "y"
    CONFIG_IOMMU_DEFAULT_PASSTHROUGH              = "is not set"
    CONFIG_IOMMU_SUPPORT                          = "y"
    CONFIG_STACKPROTECTOR                         = "y"
    CONFIG_STACKPROTECTOR_STRONG                  = "y"
    CONFIG_STRICT_KERNEL_RWX                      = "y"
    CONFIG_INIT_STACK_ALL_ZERO                    = "y"
    CONFIG_CPU_MITIGATIONS                        = "y"
    CONFIG_RANDOMIZE_BASE                         = "y"
    CONFIG_VMAP_STACK                             = "y"
    CONFIG_DEBUG_WX                               = "y"
    CONFIG_WERROR                                 = "y"
    CONFIG_X86_MCE                                = "y"
    CONFIG_MITIGATION_SPECTRE_V1                  = "y"
    CONFIG_MITIGATION_SPECTRE_V2                  = "y"
    CONFIG_MITIGATION_SSB                         = "y"
    CONFIG_MICROCODE                              = "y"
    CONFIG_X86_UMIP                               = "y"
    CONFIG_X86_MCE_INTEL                          = "y"
    CONFIG_X86_MCE_AMD                            = "y"
    CONFIG_MITIGATION_RETPOLINE                   = "y"
    CONFIG_MITIGATION_GDS                         = "y"
    CONFIG_MITIGATION_RFDS                        = "y"
    CONFIG_MITIGATION_SPECTRE_BHI                 = "y"
    CONFIG_MITIGATION_MDS                         = "y"
    CONFIG_MITIGATION_TAA                         = "y"
    CONFIG_MITIGATION_MMIO_STALE_DATA             = "y"
    CONFIG_MITIGATION_L1TF                        = "y"
    CONFIG_MITIGATION_RETBLEED                    = "y"
    CONFIG_MITIGATION_SRBDS                       = "y"
    CONFIG_MITIGATION_TSA                         = "y"
    CONFIG_RANDOMIZE_MEMORY                       = "y"
    CONFIG_X86_KERNEL_IBT                         = "y"
    CONFIG_MITIGATION_RETHUNK                     = "y"
    CONFIG_MITIGATION_PAGE_TABLE_ISOLATION        = "y"
    CONFIG_MITIGATION_UNRET_ENTRY                 = "y"
    CONFIG_MITIGATION_CALL_DEPTH_TRACKING         = "y"
    CONFIG_MITIGATION_IBPB_ENTRY                  = "y"
    CONFIG_MITIGATION_IBRS_ENTRY                  = "y"
    CONFIG_MITIGATION_SRSO                        = "y"
    CONFIG_MITIGATION_ITS                         = "y"
    CONFIG_INTEL_IOMMU                            = "y"
    CONFIG_AMD_IOMMU                              = "y"
    CONFIG_RANDOM_KMALLOC_CACHES                  = "y"
    CONFIG_SLAB_BUCKETS                           = "y"
    CONFIG_SLAB_MERGE_DEFAULT                     = "is not set"
    CONFIG_BUG_ON_DATA_CORRUPTION                 = "y"
    CONFIG_SLAB_FREELIST_HARDENED                 = "y"
    CONFIG_SLAB_FREELIST_RANDOM                   = "y"
    CONFIG_SHUFFLE_PAGE_ALLOCATOR                 = "y"
    CONFIG_FORTIFY_SOURCE                         = "y"
    CONFIG_DEBUG_VIRTUAL                          = "y"
    CONFIG_INIT_ON_ALLOC_DEFAULT_ON               = "y"
    CONFIG_STATIC_USERMODEHELPER                  = "y"
    CONFIG_SECURITY_LOCKDOWN_LSM                  = "y"
    CONFIG_SECURITY_LOCKDOWN_LSM_EARLY            = "y"
    CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY = "y"
    CONFIG_DEBUG_SG                               = "y"
    CONFIG_ZERO_CALL_USED_REGS                    = "y"
    CONFIG_DEBUG_NOTIFIERS                        = "y"
    CONFIG_KFENCE                                 = "y"
    CONFIG_KFENCE_SAMPLE_INTERVAL                 = "100"
    CONFIG_RANDSTRUCT_FULL                        = "y"
    CONFIG_HARDENED_USERCOPY                      = "y"
    CONFIG_HARDENED_USERCOPY_FALLBACK             = "is not set"
    CONFIG_HARDENED_USERCOPY_PAGESPAN             = "is not set"
    CONFIG_GCC_PLUGIN_LATENT_ENTROPY              = "y"
    CONFIG_INIT_ON_FREE_DEFAULT_ON                = "y"
    CONFIG_EFI_DISABLE_PCI_DMA                    = "y"
    CONFIG_RESET_ATTACK_MITIGATION                = "y"
    CONFIG_UBSAN_BOUNDS                           = "y"
    CONFIG_UBSAN_TRAP                             = "y"
    CONFIG_SCHED_STACK_END_CHECK                  = "y"
    CONFIG_KSTACK_ERASE_METRICS                   = "is not set"
    CONFIG_KSTACK_ERASE_RUNTIME_DISABLE           = "is not set"
    CONFIG_SCHED_CORE                             = "y"
    CONFIG_LIST_HARDENED                          = "y"
    CONFIG_RANDOMIZE_KSTACK_OFFSET_DEFAULT        = "y"
    CONFIG_PAGE_TABLE_CHECK                       = "y"
    CONFIG_PAGE_TABLE_CHECK_ENFORCED              = "y"
    CONFIG_DEFAULT_MMAP_MIN_ADDR                  = "65536"
    CONFIG_HW_RANDOM_TPM                          = "y"
    CONFIG_IOMMU_DEFAULT_DMA_STRICT               = "y"
    CONFIG_IOMMU_DEFAULT_DMA_LAZY                 = "is not set"
    CONFIG_INTEL_IOMMU_DEFAULT_ON                 = "y"
    CONFIG_MITIGATION_SLS                         = "y"
    CONFIG_INTEL_IOMMU_SVM                        = "y"
  }
}

control "kconfig-kspp-attack-surface" {
  title     = "Kernel attack surface cut at build time (KSPP, hardened kernel)"
  rationale = "Code that is not built cannot be exploited: no loadable modules, no kexec, no hibernation, no /dev/mem or /dev/kmem, no legacy syscalls and vsyscall page, no debugfs, no user-space fault handling or io_uring by default, no obsolete file systems and protocols, no kernel tracing interfaces. Each option here is one kernel-hardening-checker checks and the hardened flavour's configuration sets."
  severity  = "high"
  references {
    kspp = [
      "kconfig CONFIG_SECCOMP=y",
      "kconfig CONFIG_SECCOMP_FILTER=y",
      "kconfig CONFIG_BPF_UNPRIV_DEFAULT_OFF=y",
      "kconfig CONFIG_X86_INTEL_TSX_MODE_OFF=y",
      "kconfig CONFIG_SECURITY_DMESG_RESTRICT=y",
      "kconfig CONFIG_ACPI_CUSTOM_METHOD is not set",
      "kconfig CONFIG_COMPAT_BRK is not set",
      "kconfig CONFIG_DEVKMEM is not set",
      "kconfig CONFIG_BINFMT_MISC is not set",
      "kconfig CONFIG_INET_DIAG is not set",
      "kconfig CONFIG_KEXEC is not set",
      "kconfig CONFIG_PROC_KCORE is not set",
      "kconfig CONFIG_LEGACY_PTYS is not set",
      "kconfig CONFIG_HIBERNATION is not set",
      "kconfig CONFIG_COMPAT is not set",
      "kconfig CONFIG_IA32_EMULATION is not set",
      "kconfig CONFIG_X86_X32 is not set",
      "kconfig CONFIG_X86_X32_ABI is not set",
      "kconfig CONFIG_MODIFY_LDT_SYSCALL is not set",
      "kconfig CONFIG_OABI_COMPAT is not set",
      "kconfig CONFIG_X86_MSR is not set",
      "kconfig CONFIG_LEGACY_TIOCSTI is not set",
      "kconfig CONFIG_MODULE_FORCE_LOAD is not set",
      "kconfig CONFIG_M486 is not set",
      "kconfig CONFIG_MODULES is not set",
      "kconfig CONFIG_DEVMEM is not set",
      "kconfig CONFIG_LDISC_AUTOLOAD is not set",
      "kconfig CONFIG_X86_VSYSCALL_EMULATION is not set",
      "kconfig CONFIG_COMPAT_VDSO is not set",
      "kconfig CONFIG_DRM_LEGACY is not set",
      "kconfig CONFIG_FB is not set",
      "kconfig CONFIG_VT is not set",
      "kconfig CONFIG_BLK_DEV_FD is not set",
      "kconfig CONFIG_BLK_DEV_FD_RAWCMD is not set",
      "kconfig CONFIG_NOUVEAU_LEGACY_CTX_SUPPORT is not set",
      "kconfig CONFIG_N_GSM is not set",
      "kconfig CONFIG_CRYPTO_USER_API is not set",
      "kconfig CONFIG_CRYPTO_USER_API_ENABLE_OBSOLETE is not set",
      "kconfig CONFIG_CRYPTO_USER_API_AEAD is not set",
      "kconfig CONFIG_CRYPTO_USER_API_HASH is not set",
      "kconfig CONFIG_CRYPTO_USER_API_RNG is not set",
      "kconfig CONFIG_CRYPTO_USER_API_RNG_CAVP is not set",
      "kconfig CONFIG_CRYPTO_USER_API_SKCIPHER is not set",
      "kconfig CONFIG_ZSMALLOC_STAT is not set",
      "kconfig CONFIG_DEBUG_KMEMLEAK is not set",
      "kconfig CONFIG_BINFMT_AOUT is not set",
      "kconfig CONFIG_KPROBE_EVENTS is not set",
      "kconfig CONFIG_UPROBE_EVENTS is not set",
      "kconfig CONFIG_GENERIC_TRACER is not set",
      "kconfig CONFIG_FUNCTION_TRACER is not set",
      "kconfig CONFIG_STACK_TRACER is not set",
      "kconfig CONFIG_HIST_TRIGGERS is not set",
      "kconfig CONFIG_BLK_DEV_IO_TRACE is not set",
      "kconfig CONFIG_PROC_VMCORE is not set",
      "kconfig CONFIG_PROC_PAGE_MONITOR is not set",
      "kconfig CONFIG_USELIB is not set",
      "kconfig CONFIG_CHECKPOINT_RESTORE is not set",
      "kconfig CONFIG_USERFAULTFD is not set",
      "kconfig CONFIG_HWPOISON_INJECT is not set",
      "kconfig CONFIG_MEM_SOFT_DIRTY is not set",
      "kconfig CONFIG_DEVPORT is not set",
      "kconfig CONFIG_DEBUG_FS is not set",
      "kconfig CONFIG_NOTIFIER_ERROR_INJECTION is not set",
      "kconfig CONFIG_FAIL_FUTEX is not set",
      "kconfig CONFIG_PUNIT_ATOM_DEBUG is not set",
      "kconfig CONFIG_ACPI_CONFIGFS is not set",
      "kconfig CONFIG_EDAC_DEBUG is not set",
      "kconfig CONFIG_DRM_I915_DEBUG is not set",
      "kconfig CONFIG_DVB_C8SECTPFE is not set",
      "kconfig CONFIG_MTD_SLRAM is not set",
      "kconfig CONFIG_MTD_PHRAM is not set",
      "kconfig CONFIG_IO_URING is not set",
      "kconfig CONFIG_KCMP is not set",
      "kconfig CONFIG_RSEQ is not set",
      "kconfig CONFIG_LATENCYTOP is not set",
      "kconfig CONFIG_KCOV is not set",
      "kconfig CONFIG_PROVIDE_OHCI1394_DMA_INIT is not set",
      "kconfig CONFIG_SUNRPC_DEBUG is not set",
      "kconfig CONFIG_X86_16BIT is not set",
      "kconfig CONFIG_BLK_DEV_UBLK is not set",
      "kconfig CONFIG_SMB_SERVER is not set",
      "kconfig CONFIG_XFS_ONLINE_SCRUB_STATS is not set",
      "kconfig CONFIG_CACHESTAT_SYSCALL is not set",
      "kconfig CONFIG_PREEMPTIRQ_TRACEPOINTS is not set",
      "kconfig CONFIG_ENABLE_DEFAULT_TRACERS is not set",
      "kconfig CONFIG_PROVE_LOCKING is not set",
      "kconfig CONFIG_TEST_DEBUG_VIRTUAL is not set",
      "kconfig CONFIG_MPTCP is not set",
      "kconfig CONFIG_TLS is not set",
      "kconfig CONFIG_TIPC is not set",
      "kconfig CONFIG_IP_SCTP is not set",
      "kconfig CONFIG_KGDB is not set",
      "kconfig CONFIG_PTDUMP_DEBUGFS is not set",
      "kconfig CONFIG_X86_PTDUMP is not set",
      "kconfig CONFIG_DEBUG_CLOSURES is not set",
      "kconfig CONFIG_BCACHE_CLOSURES_DEBUG is not set",
      "kconfig CONFIG_STAGING is not set",
      "kconfig CONFIG_KSM is not set",
      "kconfig CONFIG_KALLSYMS is not set",
      "kconfig CONFIG_KEXEC_FILE is not set",
      "kconfig CONFIG_CRASH_DUMP is not set",
      "kconfig CONFIG_USER_NS is not set",
      "kconfig CONFIG_X86_CPUID is not set",
      "kconfig CONFIG_X86_IOPL_IOPERM is not set",
      "kconfig CONFIG_ACPI_TABLE_UPGRADE is not set",
      "kconfig CONFIG_EFI_CUSTOM_SSDT_OVERLAYS is not set",
      "kconfig CONFIG_AIO is not set",
      "kconfig CONFIG_MAGIC_SYSRQ is not set",
      "kconfig CONFIG_MAGIC_SYSRQ_SERIAL is not set",
      "kconfig CONFIG_EFI_TEST is not set",
      "kconfig CONFIG_MMIOTRACE_TEST is not set",
      "kconfig CONFIG_KPROBES is not set",
      "kconfig CONFIG_MMIOTRACE is not set",
      "kconfig CONFIG_LIVEPATCH is not set",
      "kconfig CONFIG_IP_DCCP is not set",
      "kconfig CONFIG_FTRACE is not set",
      "kconfig CONFIG_VIDEO_VIVID is not set",
      "kconfig CONFIG_INPUT_EVBUG is not set",
      "kconfig CONFIG_CORESIGHT is not set",
      "kconfig CONFIG_XFS_SUPPORT_V4 is not set",
      "kconfig CONFIG_BLK_DEV_WRITE_MOUNTED is not set",
      "kconfig CONFIG_FAULT_INJECTION is not set",
      "kconfig CONFIG_ARM_PTDUMP_DEBUGFS is not set",
      "kconfig CONFIG_ARM_PTDUMP is not set",
      "kconfig CONFIG_SECCOMP_CACHE_DEBUG is not set",
      "kconfig CONFIG_CRASH_DM_CRYPT is not set",
      "kconfig CONFIG_LKDTM is not set",
    ]
  }
  apply  = "none"
  check  = "kconfig"
  kernel = "hardened"
  settings = {
    CONFIG_SECCOMP                         = "y"
    CONFIG_SECCOMP_FILTER                  = "y"
    CONFIG_BPF_UNPRIV_DEFAULT_OFF          = "y"
    CONFIG_X86_INTEL_TSX_MODE_OFF          = "y"
    CONFIG_SECURITY_DMESG_RESTRICT         = "y"
    CONFIG_ACPI_CUSTOM_METHOD              = "is not set"
    CONFIG_COMPAT_BRK                      = "is not set"
    CONFIG_DEVKMEM                         = "is not set"
    CONFIG_BINFMT_MISC                     = "is not set"
    CONFIG_INET_DIAG                       = "is not set"
    CONFIG_KEXEC                           = "is not set"
    CONFIG_PROC_KCORE                      = "is not set"
    CONFIG_LEGACY_PTYS                     = "is not set"
    CONFIG_HIBERNATION                     = "is not set"
    CONFIG_COMPAT                          = "is not set"
    CONFIG_IA32_EMULATION                  = "is not set"
    CONFIG_X86_X32                         = "is not set"
    CONFIG_X86_X32_ABI                     = "is not set"
    CONFIG_MODIFY_LDT_SYSCALL              = "is not set"
    CONFIG_OABI_COMPAT                     = "is not set"
    CONFIG_X86_MSR                         = "is not set"
    CONFIG_LEGACY_TIOCSTI                  = "is not set"
    CONFIG_MODULE_FORCE_LOAD               = "is not set"
    CONFIG_M486                            = "is not set"
    CONFIG_MODULES                         = "is not set"
    CONFIG_DEVMEM                          = "is not set"
    CONFIG_LDISC_AUTOLOAD                  = "is not set"
    CONFIG_X86_VSYSCALL_EMULATION          = "is not set"
    CONFIG_COMPAT_VDSO                     = "is not set"
    CONFIG_DRM_LEGACY                      = "is not set"
    CONFIG_FB                              = "is not set"
    CONFIG_VT                              = "is not set"
    CONFIG_BLK_DEV_FD                      = "is not set"
    CONFIG_BLK_DEV_FD_RAWCMD               = "is not set"
    CONFIG_NOUVEAU_LEGACY_CTX_SUPPORT      = "is not set"
    CONFIG_N_GSM                           = "is not set"
    CONFIG_CRYPTO_USER_API                 = "is not set"
    CONFIG_CRYPTO_USER_API_ENABLE_OBSOLETE = "is not set"
    CONFIG_CRYPTO_USER_API_AEAD            = "is not set"
    CONFIG_CRYPTO_USER_API_HASH            = "is not set"
    CONFIG_CRYPTO_USER_API_RNG             = "is not set"
    CONFIG_CRYPTO_USER_API_RNG_CAVP        = "is not set"
    CONFIG_CRYPTO_USER_API_SKCIPHER        = "is not set"
    CONFIG_ZSMALLOC_STAT                   = "is not set"
    CONFIG_DEBUG_KMEMLEAK                  = "is not set"
    CONFIG_BINFMT_AOUT                     = "is not set"
    CONFIG_KPROBE_EVENTS                   = "is not set"
    CONFIG_UPROBE_EVENTS                   = "is not set"
    CONFIG_GENERIC_TRACER                  = "is not set"
    CONFIG_FUNCTION_TRACER                 = "is not set"
    CONFIG_STACK_TRACER                    = "is not set"
    CONFIG_HIST_TRIGGERS                   = "is not set"
    CONFIG_BLK_DEV_IO_TRACE                = "is not set"
    CONFIG_PROC_VMCORE                     = "is not set"
    CONFIG_PROC_PAGE_MONITOR               = "is not set"
    CONFIG_USELIB                          = "is not set"
    CONFIG_CHECKPOINT_RESTORE              = "is not set"
    CONFIG_USERFAULTFD                     = "is not set"
    CONFIG_HWPOISON_INJECT                 = "is not set"
    CONFIG_MEM_SOFT_DIRTY                  = "is not set"
    CONFIG_DEVPORT                         = "is not set"
    CONFIG_DEBUG_FS                        = "is not set"
    CONFIG_NOTIFIER_ERROR_INJECTION        = "is not set"
    CONFIG_FAIL_FUTEX                      = "is not set"
    CONFIG_PUNIT_ATOM_DEBUG                = "is not set"
    CONFIG_ACPI_CONFIGFS                   = "is not set"
    CONFIG_EDAC_DEBUG                      = "is not set"
    CONFIG_DRM_I915_DEBUG                  = "is not set"
    CONFIG_DVB_C8SECTPFE                   = "is not set"
    CONFIG_MTD_SLRAM                       = "is not set"
    CONFIG_MTD_PHRAM                       = "is not set"
    CONFIG_IO_URING                        = "is not set"
    CONFIG_KCMP                            = "is not set"
    CONFIG_RSEQ                            = "is not set"
    CONFIG_LATENCYTOP                      = "is not set"
    CONFIG_KCOV                            = "is not set"
    CONFIG_PROVIDE_OHCI1394_DMA_INIT       = "is not set"
    CONFIG_SUNRPC_DEBUG                    = "is not set"
    CONFIG_X86_16BIT                       = "is not set"
    CONFIG_BLK_DEV_UBLK                    = "is not set"
    CONFIG_SMB_SERVER                      = "is not set"
    CONFIG_XFS_ONLINE_SCRUB_STATS          = "is not set"
    CONFIG_CACHESTAT_SYSCALL               = "is not set"
    CONFIG_PREEMPTIRQ_TRACEPOINTS          = "is not set"
    CONFIG_ENABLE_DEFAULT_TRACERS          = "is not set"
    CONFIG_PROVE_LOCKING                   = "is not set"
    CONFIG_TEST_DEBUG_VIRTUAL              = "is not set"
    CONFIG_MPTCP                           = "is not set"
    CONFIG_TLS                             = "is not set"
    CONFIG_TIPC                            = "is not set"
    CONFIG_IP_SCTP                         = "is not set"
    CONFIG_KGDB                            = "is not set"
    CONFIG_PTDUMP_DEBUGFS                  = "is not set"
    CONFIG_X86_PTDUMP                      = "is not set"
    CONFIG_DEBUG_CLOSURES                  = "is not set"
    CONFIG_BCACHE_CLOSURES_DEBUG           = "is not set"
    CONFIG_STAGING                         = "is not set"
    CONFIG_KSM                             = "is not set"
    CONFIG_KALLSYMS                        = "is not set"
    CONFIG_KEXEC_FILE                      = "is not set"
    CONFIG_CRASH_DUMP                      = "is not set"
    CONFIG_USER_NS                         = "is not set"
    CONFIG_X86_CPUID                       = "is not set"
    CONFIG_X86_IOPL_IOPERM                 = "is not set"
    CONFIG_ACPI_TABLE_UPGRADE              = "is not set"
    CONFIG_EFI_CUSTOM_SSDT_OVERLAYS        = "is not set"
    CONFIG_AIO                             = "is not set"
    CONFIG_MAGIC_SYSRQ                     = "is not set"
    CONFIG_MAGIC_SYSRQ_SERIAL              = "is not set"
    CONFIG_EFI_TEST                        = "is not set"
    CONFIG_MMIOTRACE_TEST                  = "is not set"
    CONFIG_KPROBES                         = "is not set"
    CONFIG_MMIOTRACE                       = "is not set"
    CONFIG_LIVEPATCH                       = "is not set"
    CONFIG_IP_DCCP                         = "is not set"
    CONFIG_FTRACE                          = "is not set"
    CONFIG_VIDEO_VIVID                     = "is not set"
    CONFIG_INPUT_EVBUG                     = "is not set"
    CONFIG_CORESIGHT                       = "is not set"
    CONFIG_XFS_SUPPORT_V4                  = "is not set"
    CONFIG_BLK_DEV_WRITE_MOUNTED           = "is not set"
    CONFIG_FAULT_INJECTION                 = "is not set"
    CONFIG_ARM_PTDUMP_DEBUGFS              = "is not set"
    CONFIG_ARM_PTDUMP                      = "is not set"
    CONFIG_SECCOMP_CACHE_DEBUG             = "is not set"
    CONFIG_CRASH_DM_CRYPT                  = "is not set"
    CONFIG_LKDTM                           = "is not set"
  }
}

control "kconfig-kspp-policy" {
  title     = "Kernel security policy and user-space hardening built in (KSPP, hardened kernel)"
  rationale = "The security framework with Yama and Landlock built in and none of the switches that turn an LSM off at run time, SYN cookies, no forced writes through /proc/PID/mem, no core dumps, and user-space shadow stacks: policy and user-space protections compiled in, not left to the command line."
  severity  = "medium"
  references {
    kspp = [
      "kconfig CONFIG_SECURITY=y",
      "kconfig CONFIG_SECURITY_YAMA=y",
      "kconfig CONFIG_SECURITY_LANDLOCK=y",
      "kconfig CONFIG_SECURITY_SELINUX_DISABLE is not set",
      "kconfig CONFIG_SECURITY_SELINUX_BOOTPARAM is not set",
      "kconfig CONFIG_SECURITY_SELINUX_DEVELOP is not set",
      "kconfig CONFIG_SECURITY_WRITABLE_HOOKS is not set",
      "kconfig CONFIG_SECURITY_SELINUX_DEBUG is not set",
      "kconfig CONFIG_SYN_COOKIES=y",
      "kconfig CONFIG_PROC_MEM_NO_FORCE=y",
      "kconfig CONFIG_COREDUMP is not set",
      "kconfig CONFIG_X86_USER_SHADOW_STACK=y",
    ]
  }
  apply  = "none"
  check  = "kconfig"
  kernel = "hardened"
  settings = {
    CONFIG_SECURITY                   = "y"
    CONFIG_SECURITY_YAMA              = "y"
    CONFIG_SECURITY_LANDLOCK          = "y"
    CONFIG_SECURITY_SELINUX_DISABLE   = "is not set"
    CONFIG_SECURITY_SELINUX_BOOTPARAM = "is not set"
    CONFIG_SECURITY_SELINUX_DEVELOP   = "is not set"
    CONFIG_SECURITY_WRITABLE_HOOKS    = "is not set"
    CONFIG_SECURITY_SELINUX_DEBUG     = "is not set"
    CONFIG_SYN_COOKIES                = "y"
    CONFIG_PROC_MEM_NO_FORCE          = "y"
    CONFIG_COREDUMP                   = "is not set"
    CONFIG_X86_USER_SHADOW_STACK      = "y"
  }
}

# ---------------------------------------------------------------- kernel build (exceptions)
#
# kernel-hardening-checker (KHC) runs on the hardened kernel in tests/kernel;
# every option it still reports as failing is one of these exceptions. On
# Debian's stock kernels (cloud, generic) they fail too and read the same.

control "kconfig-cfi-clang" {
  title     = "Forward-edge control-flow integrity (kCFI; deviation: GCC build)"
  rationale = "kCFI checks the type of every indirect call target, so a corrupted function pointer cannot divert the kernel into arbitrary code."
  severity  = "medium"
  references {
    kspp = ["kconfig CONFIG_CFI_CLANG=y", "kconfig CONFIG_CFI_PERMISSIVE is not set", "kconfig CONFIG_CFI_AUTO_DEFAULT is not set"]
  }
  apply    = "none"
  check    = "kconfig"
  settings = { CONFIG_CFI_CLANG = "y", CONFIG_CFI_PERMISSIVE = "is not set", CONFIG_CFI_AUTO_DEFAULT = "is not set" }
  exception {
    justification = "kCFI needs a clang build; the hardened kernel is built with Debian's GCC 14, whose plugins give it structure layout randomisation, stack erasing and latent entropy (clang has no equivalents for the last two). Indirect branches are instead confined by Intel IBT (CONFIG_X86_KERNEL_IBT, on CPUs that have it) and returns by return thunks; a clang/LLVM build for kCFI is the next step."
  }
}

control "cmdline-cfi-kcfi" {
  title     = "kCFI enforced at boot (deviation: GCC build)"
  rationale = "cfi=kcfi selects the kCFI scheme on a kernel built with it."
  severity  = "low"
  references {
    kspp = ["cmdline cfi=kcfi"]
  }
  apply    = "none"
  check    = "cmdline"
  settings = { cfi = "kcfi" }
  exception {
    justification = "Meaningless without a kCFI build (see kconfig-cfi-clang): the GCC-built kernel would ignore the token."
  }
}

control "kconfig-selinux" {
  title     = "A mandatory access control LSM (deviation: no SELinux policy)"
  rationale = "KHC recommends SELinux (CONFIG_SECURITY_SELINUX, in CONFIG_LSM) for a mandatory access control policy; CONFIG_LSM_MMAP_MIN_ADDR exists only with it."
  severity  = "low"
  references {
    kspp  = ["kconfig CONFIG_SECURITY_SELINUX=y (a13xp0p0v)", "kconfig CONFIG_LSM_MMAP_MIN_ADDR=65536 (defconfig)"]
    other = ["kernel-hardening-checker CONFIG_LSM=*selinux* (a13xp0p0v)"]
  }
  apply    = "none"
  check    = "kconfig"
  settings = { CONFIG_SECURITY_SELINUX = "y", CONFIG_LSM = "*selinux*", CONFIG_LSM_MMAP_MIN_ADDR = "65536" }
  exception {
    justification = "An LSM without a policy enforces nothing, and an appliance of two services is confined more precisely by systemd's per-unit sandboxing (the svc-* controls: namespaces, seccomp filters, capability bounding, IPAddressDeny, read-only root). Lockdown (forced to confidentiality in the hardened kernel), Yama and Landlock are built in. The low-address guard LSM_MMAP_MIN_ADDR adds to SELinux is kept by the kernel's own vm.mmap_min_addr = 65536 (CONFIG_DEFAULT_MMAP_MIN_ADDR)."
  }
}

control "kconfig-hardened-usercopy-default" {
  title     = "Hardened usercopy on by default (deviation: option newer than 6.12)"
  rationale = "CONFIG_HARDENED_USERCOPY_DEFAULT_ON makes hardened usercopy the default without a command line token."
  severity  = "low"
  references {
    kspp = ["kconfig CONFIG_HARDENED_USERCOPY_DEFAULT_ON=y"]
  }
  apply    = "none"
  check    = "kconfig"
  settings = { CONFIG_HARDENED_USERCOPY_DEFAULT_ON = "y" }
  exception {
    justification  = "Linux 6.12 has no such option: there, CONFIG_HARDENED_USERCOPY=y is on unless hardened_usercopy=0 is given, and the signed command line pins hardened_usercopy=1."
    compensated_by = ["cmdline-hardened-usercopy"]
  }
}

control "cmdline-hash-pointers" {
  title     = "Kernel pointers in logs always hashed (deviation: option newer than 6.12)"
  rationale = "hash_pointers=always keeps %p from printing raw kernel addresses, which defeat KASLR."
  severity  = "low"
  references {
    kspp = ["cmdline hash_pointers=always"]
  }
  apply    = "none"
  check    = "cmdline"
  settings = { hash_pointers = "always" }
  exception {
    justification = "Linux 6.12 has no hash_pointers=: it hashes %p unless no_hash_pointers is given, which the signed command line cannot carry (boot-cmdline-signed); kptr_restrict=2 (sysctl-kptr-restrict) hides %pK as well. The token would be passed to init as an unknown parameter."
  }
}

# ---------------------------------------------------------------- BPF (exception)

control "kconfig-no-bpf-syscall" {
  title     = "No bpf() syscall (deviation: restricted instead)"
  rationale = "KSPP and kernel-hardening-checker recommend building without the bpf syscall because the verifier is a large attack surface."
  severity  = "high"
  references {
    kspp  = ["kconfig CONFIG_BPF_SYSCALL is not set"]
    other = ["kernel-hardening-checker CONFIG_BPF_SYSCALL"]
  }
  apply    = "none"
  check    = "kconfig"
  settings = { CONFIG_BPF_SYSCALL = "is not set" }
  exception {
    justification  = "The appliance's attack filter is an XDP program: it needs the bpf syscall. Instead, unprivileged BPF is disabled and the JIT hardened (sysctl-bpf-restrict), only supernode-xdp holds CAP_BPF (with CAP_NET_ADMIN and CAP_PERFMON; svc-xdp-caps), supernode holds no capability (svc-supernode-caps), and every bpf() call is audited (audit-rules)."
    compensated_by = ["sysctl-bpf-restrict", "svc-xdp-caps", "svc-supernode-caps", "audit-rules"]
  }
}

control "svc-xdp-caps" {
  title     = "supernode-xdp holds only CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON"
  rationale = "Loading programs and maps needs CAP_BPF, attaching XDP needs CAP_NET_ADMIN, and CAP_PERFMON lifts the verifier's Spectre v1 restrictions that otherwise reject the variable-offset packet-pointer arithmetic every header parser needs (each one proven necessary by tests/xdp TestEachCapabilityIsNeeded). Any other capability would be unused privilege in the one process allowed to load BPF. CAP_PERFMON also bypasses perf_event_paranoid for this process only."
  severity  = "high"
  references {
    other = ["systemd.exec(5) CapabilityBoundingSet=", "DESIGN.md privilege split"]
  }
  apply  = "none"
  check  = "unit-caps"
  key    = "supernode-xdp.service"
  values = ["CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON"]
}

control "svc-supernode-caps" {
  title     = "supernode holds no capability"
  rationale = "The service parses untrusted network input; binding UDP 3478 needs no privilege, so its bounding set is empty and it runs as a dynamic user."
  severity  = "high"
  references {
    other = ["systemd.exec(5) CapabilityBoundingSet=", "DESIGN.md privilege split"]
  }
  apply = "none"
  check = "unit-caps"
  key   = "supernode.service"
}

# ---------------------------------------------------------------- kernel modules

control "modules-unused-filesystems" {
  title     = "Unused filesystem modules cannot be loaded"
  rationale = "Filesystem drivers parse attacker-supplied images; the appliance mounts only erofs, vfat (ESP), ext4 and tmpfs."
  severity  = "medium"
  references {
    cis = ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6", "1.1.1.7", "1.1.1.8", "1.1.1.10"]
    stig = ["RHEL-08-040025"]
  }
  apply  = "modprobe-blacklist"
  check  = "modprobe"
  values = ["cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "overlay", "squashfs", "udf", "nfs", "nfsv3", "nfsv4", "cifs", "ksmbd", "gfs2", "ocfs2", "ceph", "btrfs", "xfs", "f2fs", "reiserfs", "jfs", "nilfs2", "ntfs3", "affs", "befs", "hpfs", "minix", "qnx4", "qnx6", "sysv", "ufs", "romfs", "exfat", "fuse"]
}

control "modules-usb-storage" {
  title     = "USB storage cannot be loaded"
  rationale = "A USB stick is a classic way to bring code or exfiltrate data on a datacentre box."
  severity  = "medium"
  references {
    cis = ["1.1.1.9"]
    stig = ["RHEL-08-040080", "RHEL-08-040026"]
  }
  apply  = "modprobe-blacklist"
  check  = "modprobe"
  values = ["usb-storage", "uas", "firewire-core", "thunderbolt"]
}

control "modules-unused-protocols" {
  title     = "Unused network protocol modules cannot be loaded"
  rationale = "Rarely used protocols (DCCP, TIPC, RDS, SCTP and friends) have had remote and local kernel vulnerabilities and are auto-loaded by a socket() call."
  severity  = "medium"
  references {
    cis = ["3.2.1", "3.2.2", "3.2.3", "3.2.4"]
    stig = ["RHEL-08-040021", "RHEL-08-040022", "RHEL-08-040023", "RHEL-08-040024", "RHEL-08-040111"]
  }
  apply  = "modprobe-blacklist"
  check  = "modprobe"
  values = ["dccp", "tipc", "rds", "sctp", "atm", "appletalk", "ax25", "netrom", "rose", "x25", "ieee802154", "can", "bluetooth", "n-hdlc", "l2tp_ppp", "psnap", "p8022", "decnet", "econet", "ipx", "af_802154", "llc2"]
}

control "modules-lock" {
  title     = "Module loading disabled once the uplinks are up"
  rationale = "After boot has loaded the NIC drivers and the firewall, kernel.modules_disabled=1 closes the kernel to new code for the rest of the uptime (it cannot be re-enabled without a reboot)."
  severity  = "medium"
  references {
    kspp = ["sysctl kernel.modules_disabled=1"]
  }
  apply  = "unit"
  check  = "unit-enabled"
  key    = "supernode-modules-lock.service"
  values = ["multi-user.target"]
  # Not in sysctl.d: systemd-sysctl.service would apply it before the NIC
  # drivers load. The unit applies this one file late in boot.
  settings = { "/usr/lib/supernode/modules-lock.conf" = "kernel.modules_disabled = 1" }
  expect = <<-UNIT
    [Unit]
    Description=Disable kernel module loading (hardening control modules-lock)
    Documentation=https://github.com/supernode-appliance/appliance/tree/main/hardening
    After=systemd-modules-load.service systemd-udev-trigger.service network-online.target nftables.service supernode-xdp.service
    Wants=network-online.target
    DefaultDependencies=no
    Before=multi-user.target

    [Service]
    Type=oneshot
    RemainAfterExit=yes
    ExecStart=/usr/lib/systemd/systemd-sysctl /usr/lib/supernode/modules-lock.conf
    CapabilityBoundingSet=CAP_SYS_MODULE
    NoNewPrivileges=yes
    PrivateNetwork=yes
    PrivateTmp=yes
    PrivateDevices=yes
    ProtectSystem=strict
    ProtectHome=yes
    ProtectKernelLogs=yes
    ProtectControlGroups=yes
    ProtectClock=yes
    ProtectHostname=yes
    RestrictNamespaces=yes
    RestrictRealtime=yes
    RestrictSUIDSGID=yes
    RestrictAddressFamilies=AF_UNIX
    LockPersonality=yes
    MemoryDenyWriteExecute=yes
    SystemCallArchitectures=native
    SystemCallFilter=@system-service
    SystemCallErrorNumber=EPERM
    IPAddressDeny=any
    UMask=0077

    [Install]
    WantedBy=multi-user.target
  UNIT
}

control "modules-disabled-live" {
  title     = "Module loading is disabled in the running kernel"
  rationale = "The live proof of modules-lock."
  severity  = "medium"
  references {
    kspp = ["sysctl kernel.modules_disabled=1"]
  }
  apply    = "none"
  check    = "sysctl"
  scope    = ["live"]
  settings = { "kernel.modules_disabled" = "1" }
}

# ---------------------------------------------------------------- filesystem

control "fs-root-verity" {
  title     = "Read-only root verified by dm-verity"
  rationale = "Every block of /usr and /etc is checked against a hash tree whose root hash is on the kernel command line inside the UKI: an offline or online modification of the root is detected and refused."
  severity  = "critical"
  references {
    other = ["systemd Discoverable Partitions Specification", "veritysetup(8)"]
  }
  apply = "builder"
  check = "verity"
}

control "fs-tmp" {
  title     = "/tmp is a tmpfs with nodev,nosuid,noexec"
  rationale = "A world-writable directory must not host device nodes, setuid programs or executables dropped by an attacker."
  severity  = "medium"
  references {
    cis = ["1.1.2.1.1", "1.1.2.1.2", "1.1.2.1.3", "1.1.2.1.4"]
    stig = ["RHEL-08-040123", "RHEL-08-040124", "RHEL-08-040125"]
  }
  apply  = "fstab"
  check  = "mount"
  key    = "/tmp"
  expect = "nodev,nosuid,noexec"
}

control "fs-dev-shm" {
  title     = "/dev/shm has nodev,nosuid,noexec"
  rationale = "Shared memory is world-writable; same reasoning as /tmp."
  severity  = "medium"
  references {
    cis = ["1.1.2.2.1", "1.1.2.2.2", "1.1.2.2.3", "1.1.2.2.4"]
    stig = ["RHEL-08-040120", "RHEL-08-040121", "RHEL-08-040122"]
  }
  apply  = "fstab"
  check  = "mount"
  key    = "/dev/shm"
  expect = "nodev,nosuid,noexec"
}

control "fs-var" {
  title     = "/var is mounted nodev,nosuid"
  rationale = "/var is the only writable area; nothing there needs device nodes or setuid. Stateless images get a tmpfs /var from Apply (also noexec); persistent images get an fstab line for the partition systemd-repart makes on first boot from the image builder."
  severity  = "medium"
  references {
    cis = ["1.1.2.4.2", "1.1.2.4.3"]
  }
  apply  = "fstab"
  check  = "mount"
  key    = "/var"
  expect = "nodev,nosuid"
}

control "fs-account-db-world-readable" {
  title     = "passwd and group: mode 0644 or stricter, owned by root"
  rationale = "Account databases must not be writable by anyone but root."
  severity  = "medium"
  references {
    cis = ["7.1.1", "7.1.2", "7.1.3", "7.1.4"]
  }
  apply  = "file-mode"
  check  = "file-mode"
  values = ["/etc/passwd", "/etc/passwd-", "/etc/group", "/etc/group-"]
  expect = "0644"
}

control "fs-account-db-secret" {
  title     = "shadow and gshadow: mode 0640 or stricter, owned by root"
  rationale = "Password hashes (even locked fields) are readable only by root and the shadow group."
  severity  = "high"
  references {
    cis = ["7.1.5", "7.1.6", "7.1.7", "7.1.8"]
  }
  apply  = "file-mode"
  check  = "file-mode"
  values = ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-"]
  expect = "0640"
}

# ---------------------------------------------------------------- accounts

control "accounts-root-locked" {
  title     = "root's password is locked"
  rationale = "There is no interactive login on the appliance; a root password would be a credential to steal or guess."
  severity  = "critical"
  references {
    cis = ["5.4.2.4"]
  }
  apply = "lock-accounts"
  check = "root-locked"
}

control "accounts-no-passwords" {
  title     = "No account has a password"
  rationale = "Every account is a system account; none needs a password and an empty password field would allow login."
  severity  = "critical"
  references {
    cis = ["7.2.2", "5.4.2.8"]
    stig = ["RHEL-08-020331"]
  }
  apply = "lock-accounts"
  check = "no-passwords"
}

control "accounts-nologin" {
  title     = "No account has a login shell"
  rationale = "System accounts with a shell can be used for interactive access if any authentication path opens."
  severity  = "high"
  references {
    cis = ["5.4.2.7"]
  }
  apply = "nologin-shells"
  check = "nologin-shells"
  debug = "exempt"
}

# ---------------------------------------------------------------- software inventory

control "sw-no-package-manager" {
  title     = "No package manager"
  rationale = "Software changes arrive as a new verified image, never by installing into a running box; a package manager is a code installation tool for an attacker."
  severity  = "high"
  references {
    other = ["KSPP/appliance practice: immutable image"]
  }
  apply  = "builder"
  check  = "absent"
  values = ["/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/dpkg-deb", "/usr/bin/rpm", "/usr/bin/pip*", "/usr/lib/apt/methods"]
}

control "sw-no-compilers" {
  title     = "No compilers or assemblers"
  rationale = "Compilers let an attacker build exploits on the target."
  severity  = "medium"
  references {
    other = ["appliance practice: minimal image"]
  }
  apply  = "builder"
  check  = "absent"
  values = ["/usr/bin/gcc*", "/usr/bin/cc", "/usr/bin/c++", "/usr/bin/g++*", "/usr/bin/clang*", "/usr/bin/as", "/usr/bin/ld", "/usr/bin/ld.*", "/usr/bin/tcc", "/usr/bin/go", "/usr/local/go"]
}

control "sw-no-interpreters" {
  title     = "No script interpreters"
  rationale = "Interpreters run attacker-supplied code without needing an executable file (noexec does not stop 'python3 -c')."
  severity  = "medium"
  references {
    other = ["appliance practice: minimal image"]
  }
  apply  = "builder"
  check  = "absent"
  values = ["/usr/bin/python*", "/usr/bin/perl*", "/usr/bin/ruby*", "/usr/bin/node*", "/usr/bin/lua*", "/usr/bin/php*", "/usr/bin/tclsh*", "/usr/bin/awk", "/usr/bin/gawk", "/usr/bin/mawk"]
}

control "sw-no-shells" {
  title     = "No shell (debug images excepted)"
  rationale = "Without a shell, a code-execution bug in a service cannot turn into an interactive session or a shell script payload."
  severity  = "medium"
  references {
    other = ["appliance practice: minimal image"]
  }
  apply  = "builder"
  check  = "absent"
  values = ["/usr/bin/bash", "/bin/bash", "/usr/bin/dash", "/bin/dash", "/usr/bin/sh", "/bin/sh", "/usr/bin/zsh", "/usr/bin/busybox"]
  debug  = "exempt"
}

control "sw-no-suid" {
  title     = "No setuid or setgid files"
  rationale = "Setuid programs are the classic local privilege escalation; the appliance has no users to elevate."
  severity  = "high"
  references {
    cis  = ["7.1.13"]
  }
  apply = "strip-suid"
  check = "no-suid"
}

# ---------------------------------------------------------------- services

control "svc-enabled-allowlist" {
  title     = "Only declared units are enabled"
  rationale = "Every enabled unit is attack surface or resource use. Apply disables every unit the distribution's packages enabled that is not on this list (apt and dpkg timers left behind by removed packages, e2scrub, fstrim, pstore archival), so the image starts exactly what is declared here."
  severity  = "high"
  references {
    cis = ["2.1", "2.2"]
  }
  apply  = "disable-unlisted"
  check  = "enabled-units"
  values = [
    "supernode.service", "supernode-xdp.service", "supernode-modules-lock.service", "appliance-audit.service",
    "appliance-imds.service", "appliance-config.service", "appliance-firewall.service", "appliance-mgmt.service",
    "appliance-logship.service", "systemd-netlogd.service",
    # updates and install media: the boot health gate (required by
    # boot-complete.target), the install medium's copier (runs only with
    # appliance-install.target) and the timer for appliance-update.url
    "appliance-health.service", "appliance-install.service", "appliance-update-url.timer",
    "appliance-trial-reboot.service",
    "systemd-networkd.service", "systemd-networkd.socket", "systemd-network-generator.service",
    "systemd-networkd-varlink.socket", "systemd-networkd-resolve-hook.socket", "systemd-networkd-persistent-storage.service",
    "dbus-org.freedesktop.network1.service", "systemd-resolved.service", "dbus-org.freedesktop.resolve1.service",
    "systemd-timesyncd.service", "dbus-org.freedesktop.timesync1.service", "systemd-repart.service",
    "nftables.service", "auditd.service", "audit-rules.service",
    "getty@*.service", "serial-getty@*.service", "remote-fs.target",
  ]
}

control "svc-exposure" {
  title     = "Service sandboxing at or below a declared exposure"
  rationale = "systemd-analyze security scores a unit's sandbox (0 = fully confined, 10 = unrestricted); declaring a ceiling per enabled service turns a regression in a unit file into an audit failure. The appliance's own services are confined by design; systemd-networkd keeps the sandbox systemd ships (it needs CAP_NET_ADMIN and raw sockets)."
  severity  = "high"
  references {
    other = ["systemd-analyze(1) security"]
  }
  apply = "none"
  check = "exposure"
  settings = {
    "supernode.service"              = "1.5"
    "supernode-xdp.service"          = "2.0"
    "appliance-audit.service"        = "2.5"
    # cloud user data importer (root without capabilities, only
    # 169.254.169.254 reachable): 1.5 with systemd 257 and 252
    "appliance-imds.service"         = "1.6"
    # configuration partition importer (root without capabilities, no
    # network at all): 0.7 with systemd 252
    "appliance-config.service"       = "1.0"
    # fills nft's fleet/mgmt sets (DynamicUser, CAP_NET_ADMIN only, no IP)
    # and the opt-in management listener (DynamicUser, no capability):
    # 1.2 each as scored by systemd 252
    "appliance-firewall.service"     = "1.5"
    "appliance-mgmt.service"         = "1.5"
    # writes systemd-netlogd's drop-in from the log_* keys (DynamicUser,
    # no capability, no network at all): 0.4 as scored by systemd 252
    "appliance-logship.service"      = "1.0"
    # the boot health gate (root without capability, no network; it asks
    # PID 1 for unit states over its root-only private socket and reads
    # the live audit's report): 0.9 as scored by systemd 252
    "appliance-health.service"       = "1.5"
    # install media (runs only with appliance-install.target): root
    # with CAP_SYS_ADMIN/CAP_DAC_OVERRIDE/CAP_SYS_RAWIO to copy whole
    # disks, no network: 2.0 as scored by systemd 252
    "appliance-install.service"      = "2.5"
    # reboots a boot under trial that fell into emergency mode (root, no
    # capability, no network): 1.3 as scored by systemd 252
    "appliance-trial-reboot.service" = "2.0"
    "supernode-modules-lock.service" = "2.0"
    # networkd keeps the sandbox systemd ships: 2.9 with systemd 257, 3.1
    # as scored by systemd 252 (an auditing Debian 12 host).
    "systemd-networkd.service"       = "3.2"
    # Debian's unit for the audit daemon, with the partial sandbox it
    # ships: it must run as root with CAP_AUDIT_*, write /var/log/audit
    # and start plugins, and reads no network input. Declared at its
    # measured score (8.9 with systemd 257, 9.0 with 252) so any
    # loosening fails the audit. nftables and audit-rules have controls
    # of their own (svc-nftables-sandbox, svc-audit-rules-sandbox).
    "auditd.service"                 = "9.1"
  }
}

control "svc-network-generator-sandbox" {
  title     = "systemd-network-generator runs sandboxed"
  rationale = "The generator parses the kernel command line and network credentials as root early in boot with no sandbox at all (exposure 9.4); it only needs to read its inputs and write /run/systemd/network, so a drop-in takes every capability, the network and write access elsewhere away (exposure 0.7 with systemd 257)."
  severity  = "medium"
  references {
    other = ["systemd-analyze(1) security", "systemd.exec(5)"]
  }
  apply    = "unit-dropin"
  check    = "exposure"
  key      = "systemd-network-generator.service"
  settings = { "systemd-network-generator.service" = "1.0" }
  expect   = <<-DROPIN
    [Service]
    CapabilityBoundingSet=
    NoNewPrivileges=yes
    PrivateNetwork=yes
    PrivateDevices=yes
    ProtectSystem=strict
    ReadWritePaths=/run/systemd
    ProtectHome=yes
    ProtectKernelTunables=yes
    ProtectKernelModules=yes
    ProtectKernelLogs=yes
    ProtectControlGroups=yes
    ProtectClock=yes
    ProtectHostname=yes
    ProtectProc=invisible
    RestrictNamespaces=yes
    RestrictRealtime=yes
    RestrictSUIDSGID=yes
    RestrictAddressFamilies=AF_UNIX
    LockPersonality=yes
    MemoryDenyWriteExecute=yes
    SystemCallArchitectures=native
    SystemCallFilter=@system-service
    SystemCallFilter=~@privileged @resources
    SystemCallErrorNumber=EPERM
    IPAddressDeny=any
    RemoveIPC=yes
    DevicePolicy=closed
    UMask=0022
  DROPIN
}

control "svc-nftables-sandbox" {
  title     = "nftables.service runs sandboxed"
  rationale = "Debian's unit loads the firewall as root with every capability and next to no sandbox (exposure 9.4). It only needs to read /etc/nftables.conf and talk netlink with CAP_NET_ADMIN; a drop-in takes every other capability, write access, devices, other address families and the IP network away (exposure 1.4 with systemd 257). The kernel still autoloads nf_tables modules on its behalf (request_module runs modprobe outside the sandbox), before supernode-modules-lock."
  severity  = "medium"
  references {
    other = ["systemd-analyze(1) security", "systemd.exec(5)"]
  }
  apply    = "unit-dropin"
  check    = "exposure"
  key      = "nftables.service"
  settings = { "nftables.service" = "1.6" }
  expect   = <<-DROPIN
    [Service]
    CapabilityBoundingSet=CAP_NET_ADMIN
    NoNewPrivileges=yes
    PrivateMounts=yes
    PrivateDevices=yes
    ProtectSystem=strict
    ProtectHome=yes
    ProtectKernelTunables=yes
    ProtectKernelModules=yes
    ProtectKernelLogs=yes
    ProtectControlGroups=yes
    ProtectClock=yes
    ProtectHostname=yes
    ProtectProc=invisible
    ProcSubset=pid
    PrivateIPC=yes
    RestrictNamespaces=yes
    RestrictRealtime=yes
    RestrictSUIDSGID=yes
    RestrictAddressFamilies=AF_NETLINK AF_UNIX
    LockPersonality=yes
    MemoryDenyWriteExecute=yes
    SystemCallArchitectures=native
    SystemCallFilter=@system-service
    SystemCallFilter=~@privileged @resources
    SystemCallErrorNumber=EPERM
    IPAddressDeny=any
    RemoveIPC=yes
    DevicePolicy=closed
    UMask=0077
  DROPIN
}

control "svc-netlogd-sandbox" {
  title     = "Log shipping (systemd-netlogd) runs only when configured, sandboxed"
  rationale = "Debian's unit for the syslog forwarder starts as root with every capability and a partial sandbox (exposure 6.8 as scored by systemd 252; 2.8 with the drop-in). It runs only when appliance-logship wrote a collector from the configuration, and needs root only to hand its state directory to its own user and drop privileges (CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE: without it netlogd 1.4.4 exits 1 before dropping them; it keeps only CAP_NET_*); it reads the journal and opens one connection to the collector. A drop-in takes every other capability, write access, devices, namespaces and other address families away."
  severity  = "medium"
  references {
    other = ["systemd-analyze(1) security", "systemd.exec(5)", "RFC 5424", "RFC 5425"]
  }
  apply    = "unit-dropin"
  check    = "exposure"
  key      = "systemd-netlogd.service"
  settings = { "systemd-netlogd.service" = "3.2" }
  expect   = <<-DROPIN
    [Unit]
    ConditionPathExists=/run/systemd/netlogd.conf.d/appliance.conf
    After=appliance-logship.service

    [Service]
    CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_SETPCAP CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_BROADCAST
    NoNewPrivileges=yes
    PrivateMounts=yes
    PrivateIPC=yes
    ProtectKernelTunables=yes
    ProtectKernelModules=yes
    ProtectKernelLogs=yes
    ProtectControlGroups=yes
    ProtectClock=yes
    ProtectHostname=yes
    RestrictNamespaces=yes
    RestrictRealtime=yes
    RestrictSUIDSGID=yes
    RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
    LockPersonality=yes
    MemoryDenyWriteExecute=yes
    SystemCallArchitectures=native
    SystemCallFilter=@system-service
    SystemCallErrorNumber=EPERM
    RemoveIPC=yes
    DevicePolicy=closed
    UMask=0022
  DROPIN
}

control "svc-audit-rules-sandbox" {
  title     = "audit-rules.service runs sandboxed"
  rationale = "Debian's unit loads the audit rules as root with no sandbox at all (exposure 9.4; its comment says sandboxing tends to interfere with augenrules, which the image replaces by one auditctl -R). auditctl needs CAP_AUDIT_CONTROL and an audit netlink socket, nothing else (exposure 1.3 with systemd 257)."
  severity  = "medium"
  references {
    other = ["systemd-analyze(1) security", "systemd.exec(5)"]
  }
  apply    = "unit-dropin"
  check    = "exposure"
  key      = "audit-rules.service"
  settings = { "audit-rules.service" = "1.5" }
  expect   = <<-DROPIN
    [Service]
    CapabilityBoundingSet=CAP_AUDIT_CONTROL
    NoNewPrivileges=yes
    PrivateMounts=yes
    PrivateDevices=yes
    ProtectSystem=strict
    ProtectHome=yes
    ProtectKernelTunables=yes
    ProtectKernelModules=yes
    ProtectKernelLogs=yes
    ProtectControlGroups=yes
    ProtectClock=yes
    ProtectHostname=yes
    ProtectProc=invisible
    ProcSubset=pid
    PrivateIPC=yes
    RestrictNamespaces=yes
    RestrictRealtime=yes
    RestrictSUIDSGID=yes
    RestrictAddressFamilies=AF_NETLINK AF_UNIX
    LockPersonality=yes
    MemoryDenyWriteExecute=yes
    SystemCallArchitectures=native
    SystemCallFilter=@system-service
    SystemCallFilter=~@privileged @resources
    SystemCallErrorNumber=EPERM
    IPAddressDeny=any
    RemoveIPC=yes
    DevicePolicy=closed
    UMask=0077
  DROPIN
}

control "svc-masked" {
  title     = "Ctrl-Alt-Del and the debug shell are masked"
  rationale = "Ctrl-Alt-Del on a console must not reboot the box; debug-shell.service would give an unauthenticated root shell on tty9."
  severity  = "medium"
  references {
    stig = ["RHEL-08-040170", "RHEL-08-040180"]
  }
  apply  = "mask-units"
  check  = "masked"
  values = ["ctrl-alt-del.target", "debug-shell.service", "kexec.target"]
}

control "svc-coredump-off" {
  title     = "systemd-coredump stores nothing"
  rationale = "Belt and braces with sysctl-core-dumps: even if a core pattern pointed at systemd-coredump, nothing would be written."
  severity  = "low"
  references {
    cis = ["1.5.3"]
    stig = ["RHEL-08-010672", "RHEL-08-010674"]
  }
  apply    = "systemd-conf"
  check    = "systemd-conf"
  key      = "systemd/coredump.conf"
  settings = { "Coredump.Storage" = "none", "Coredump.ProcessSizeMax" = "0" }
}

control "svc-resolved-no-multicast" {
  title     = "No LLMNR or multicast DNS responder"
  rationale = "systemd-resolved would otherwise listen on UDP/TCP 5355 and 5353 on every interface: open ports the appliance does not need."
  severity  = "medium"
  references {
    cis = ["2.1"]
  }
  apply    = "systemd-conf"
  check    = "systemd-conf"
  key      = "systemd/resolved.conf"
  settings = { "Resolve.LLMNR" = "no", "Resolve.MulticastDNS" = "no" }
}

# ---------------------------------------------------------------- network

control "net-nftables-default-deny" {
  title     = "Firewall: default deny inbound, only service ports open"
  rationale = "Anything that starts listening by mistake stays unreachable; the XDP filter in front handles attack traffic, nftables guarantees default deny."
  severity  = "high"
  references {
    cis = ["4.3.4", "4.3.5", "4.3.6", "4.3.8", "4.3.9", "4.3.10"]
  }
  apply  = "nftables"
  check  = "nftables"
  # every proto/port of internal/inventory that is not loopback-only
  values = inventory.firewall
}

control "net-listening" {
  title     = "Only the declared ports listen"
  rationale = "The live proof of the service inventory: every non-loopback listening socket is a declared service port (DHCP client ports included)."
  severity  = "high"
  references {
    cis = ["2.1"]
  }
  apply  = "none"
  check  = "listening"
  scope  = ["live"]
  values = inventory.firewall
}

control "net-xdp-attached" {
  title     = "XDP filter attached to every uplink"
  rationale = "The filter drops attack traffic in the driver before the stack; an uplink without it is unprotected."
  severity  = "high"
  references {
    other = ["DESIGN.md packet path"]
  }
  apply = "none"
  check = "xdp"
  scope = ["live"]
}

# ---------------------------------------------------------------- logging

control "log-journald" {
  title     = "journald: persistent, compressed, bounded, no syslog forwarding"
  rationale = "Logs survive a reboot for incident response, cannot fill /var, and there is exactly one logging system."
  severity  = "medium"
  references {
    cis = ["6.1.1.3", "6.1.1.4", "6.1.2.2", "6.1.2.3", "6.1.2.4"]
  }
  apply    = "systemd-conf"
  check    = "systemd-conf"
  key      = "systemd/journald.conf"
  settings = {
    "Journal.Storage"         = "persistent"
    "Journal.Compress"        = "yes"
    "Journal.ForwardToSyslog" = "no"
    "Journal.SystemMaxUse"    = "256M"
    "Journal.Audit"           = "yes"
  }
}

control "audit-rules" {
  title     = "Audit rules: bpf, module loading, identity, time, mounts, immutable"
  rationale = "Every bpf() call, module load, change to account files or time, and mount is recorded; -e 2 makes the rule set immutable until reboot."
  severity  = "high"
  references {
    cis = ["6.2.1.1", "6.2.1.2", "6.2.3.4", "6.2.3.8", "6.2.3.10", "6.2.3.19", "6.2.3.20"]
    stig = ["RHEL-08-030121", "RHEL-08-030130", "RHEL-08-030150", "RHEL-08-030160", "RHEL-08-030170", "RHEL-08-030180", "RHEL-08-030181", "RHEL-08-030360", "RHEL-08-030380", "RHEL-08-030390"]
  }
  apply = "audit-rules"
  check = "audit-rules"
  values = [
    "-a always,exit -F arch=b64 -S bpf -k bpf",
    "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules",
    "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change",
    "-a always,exit -F arch=b64 -S mount,umount2 -k mounts",
    "-w /etc/passwd -p wa -k identity",
    "-w /etc/group -p wa -k identity",
    "-w /etc/shadow -p wa -k identity",
    "-w /etc/gshadow -p wa -k identity",
    "-e 2",
  ]
}

# ---------------------------------------------------------------- boot chain

control "boot-uki" {
  title     = "Unified kernel image with embedded command line"
  rationale = "Kernel, initrd and command line (with the verity root hash) are one PE file, so the command line cannot be edited at the boot menu and is covered by the signature."
  severity  = "critical"
  references {
    other = ["UAPI Group Unified Kernel Image specification"]
  }
  apply = "builder"
  check = "uki"
}

control "boot-lockdown-live" {
  title     = "Kernel lockdown is in effect"
  rationale = "The live proof of cmdline-lockdown: the LSM reports the mode actually enforced."
  severity  = "high"
  references {
    kspp = ["cmdline lockdown=confidentiality (integrity at minimum)"]
  }
  apply  = "none"
  check  = "lockdown"
  scope  = ["live"]
  expect = "integrity"
}

control "boot-secure-boot" {
  title     = "UKI signed for Secure Boot"
  rationale = "With Secure Boot the firmware refuses a modified UKI, which protects the command line and through it the verity root hash."
  severity  = "high"
  references {
    other = ["UEFI 2.10 section 32 Secure Boot"]
  }
  apply = "builder"
  check = "secure-boot"
  exception {
    justification = "Signing needs the operator's keys (image template secure_boot_key/cert); images built without them are unsigned. The verity root hash on the UKI command line still detects any change to the root, and the audit verifies it."
    compensated_by = ["fs-root-verity", "boot-uki"]
  }
}

control "boot-cmdline-signed" {
  title     = "Kernel command line is exactly the signed one"
  rationale = "systemd-stub 257 appends the SMBIOS OEM string io.systemd.stub.kernel-cmdline-extra even under Secure Boot, so whoever sets SMBIOS could add rd.break, a second roothash= (the last one wins) or lockdown=none. Signed images carry a stub that never reads it (image/builder/stub.go); this control proves the running kernel got exactly the command line recorded in the verified root, with one roothash=."
  severity  = "critical"
  references {
    other = ["UAPI Group Unified Kernel Image specification", "systemd-stub(7) SMBIOS Type 11 strings"]
  }
  apply = "builder"
  check = "signed-cmdline"
  exception {
    justification = "Unsigned images boot with the stock stub, which appends SMBIOS command line extensions (the image tests use one to put the journal on the serial console); nothing verifies an unsigned image anyway. Never excused when Secure Boot is on, nor offline."
    compensated_by = ["fs-root-verity", "boot-uki"]
  }
}

control "boot-initrd-no-shell" {
  title     = "Initrd offers no shell or emergency path"
  rationale = "The initrd runs before the root is verified. With a shell, sulogin and dracut's emergency hooks in it, rd.break or SYSTEMD_SULOGIN_FORCE=1 on the command line gives a root shell; without them a failed boot just stops."
  severity  = "critical"
  references {
    other = ["systemd-sulogin-shell(8)", "dracut.cmdline(7) rd.break rd.shell"]
  }
  apply = "builder"
  check = "initrd-no-shell"
  scope = ["image"]
}

control "boot-credential-allowlist" {
  title     = "System credentials only from the allowlist"
  rationale = "SMBIOS type 11 and fw_cfg credentials come from whoever runs the hypervisor and systemd imports them as trusted: journal.forward_to_socket would ship the journal away, tmpfiles.extra or sysctl.extra change the system, systemd.extra-unit.* adds units. Only the appliance's own configuration credentials may reach a unit; the generator that turns credentials into units is not shipped."
  severity  = "high"
  references {
    other = ["systemd.system-credentials(7)", "DESIGN.md trust chain"]
  }
  apply  = "credential-allowlist"
  check  = "credential-allowlist"
  values = ["supernode.*", "supernode-xdp.*", "appliance-mgmt.*", "appliance-install.*", "appliance-update.url", "appliance-update.ca", "network.network.*", "network.netdev.*", "network.link.*"]
}

control "profile-stamp" {
  title     = "Image records the profile version it was hardened with"
  rationale = "An auditor can tell which version of this file an image was built against."
  severity  = "low"
  references {
    other = ["traceability"]
  }
  apply = "stamp"
  check = "stamp"
}
