# KSPP recommended settings as kernel-hardening-checker lists them for
# X86_64 (upstream git v0.6.17.1-98-g0b9aebf, `kernel-hardening-checker -p X86_64`):
# every kconfig, kernel command line and sysctl option it checks, by type and
# name, with the value it wants and the source it credits (defconfig, kspp,
# grsec, clipos, a13xp0p0v, cis...). Option names are facts; the titles are ours.
#
# A profile control cites an item as "TYPE NAME[=VALUE] [comment]" (e.g.
# "sysctl kernel.kptr_restrict=2"); the catalog matches it by TYPE NAME.
#
# Honest status: the kconfig items the hardened flavour's kernel
# (image/kernel/hardened.config, the default) meets are implemented by the
# kconfig-kspp-* controls, checked on the kernel's config in the verified
# root; Debian's cloud and generic kernels report them as exceptions naming
# the flavour. The kconfig items still open are ones kernel-hardening-checker
# accepts on the hardened kernel through an alternative (no modules at all
# instead of signed modules, no /dev/mem instead of STRICT_DEVMEM, options
# renamed or removed before 6.12); tests/kernel runs the checker itself.
# "open" on an "is not set" command line option means our UKI command line does
# not carry it today but no control forbids it.

reference "kspp" {
  title = "KSPP recommended settings (kernel-hardening-checker, X86_64)"
  scope = "complete"
}

reason "ubuntu-only" {
  text = "An Ubuntu AppArmor sysctl; the image runs Debian's kernel without AppArmor policy, where the knob does not exist."
}

reason "not-x86" {
  text = "An arm64 command line option; the appliance image is x86-64 only."
}

item "kconfig CONFIG_BUG" {
  title  = "CONFIG_BUG = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SLUB_DEBUG" {
  title  = "CONFIG_SLUB_DEBUG = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_THREAD_INFO_IN_TASK" {
  title  = "CONFIG_THREAD_INFO_IN_TASK = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_IOMMU_DEFAULT_PASSTHROUGH" {
  title  = "CONFIG_IOMMU_DEFAULT_PASSTHROUGH not set"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_IOMMU_SUPPORT" {
  title  = "CONFIG_IOMMU_SUPPORT = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_STACKPROTECTOR" {
  title  = "CONFIG_STACKPROTECTOR = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_STACKPROTECTOR_STRONG" {
  title  = "CONFIG_STACKPROTECTOR_STRONG = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_STRICT_KERNEL_RWX" {
  title  = "CONFIG_STRICT_KERNEL_RWX = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_STRICT_MODULE_RWX" {
  title  = "CONFIG_STRICT_MODULE_RWX = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_REFCOUNT_FULL" {
  title  = "CONFIG_REFCOUNT_FULL = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_INIT_STACK_ALL_ZERO" {
  title  = "CONFIG_INIT_STACK_ALL_ZERO = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_CPU_MITIGATIONS" {
  title  = "CONFIG_CPU_MITIGATIONS = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_RANDOMIZE_BASE" {
  title  = "CONFIG_RANDOMIZE_BASE = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_VMAP_STACK" {
  title  = "CONFIG_VMAP_STACK = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_LSM_MMAP_MIN_ADDR" {
  title  = "CONFIG_LSM_MMAP_MIN_ADDR = 65536"
  want   = "65536"
  source = "defconfig"
  class  = "self_protection"
  status = "exception"
  by     = ["kconfig-selinux"]
  note   = "documented exception in kconfig-selinux: no SELinux policy; systemd per-unit sandboxing, lockdown, Yama, Landlock; vm.mmap_min_addr=65536."
}

item "kconfig CONFIG_DEBUG_WX" {
  title  = "CONFIG_DEBUG_WX = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_WERROR" {
  title  = "CONFIG_WERROR = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_X86_MCE" {
  title  = "CONFIG_X86_MCE = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_SPECTRE_V1" {
  title  = "CONFIG_MITIGATION_SPECTRE_V1 = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_SPECTRE_V2" {
  title  = "CONFIG_MITIGATION_SPECTRE_V2 = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_SSB" {
  title  = "CONFIG_MITIGATION_SSB = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MICROCODE" {
  title  = "CONFIG_MICROCODE = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MICROCODE_INTEL" {
  title  = "CONFIG_MICROCODE_INTEL = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_MICROCODE_AMD" {
  title  = "CONFIG_MICROCODE_AMD = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_X86_SMAP" {
  title  = "CONFIG_X86_SMAP = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_X86_UMIP" {
  title  = "CONFIG_X86_UMIP = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_X86_MCE_INTEL" {
  title  = "CONFIG_X86_MCE_INTEL = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_X86_MCE_AMD" {
  title  = "CONFIG_X86_MCE_AMD = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_RETPOLINE" {
  title  = "CONFIG_MITIGATION_RETPOLINE = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_GDS" {
  title  = "CONFIG_MITIGATION_GDS = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_RFDS" {
  title  = "CONFIG_MITIGATION_RFDS = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_SPECTRE_BHI" {
  title  = "CONFIG_MITIGATION_SPECTRE_BHI = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_MDS" {
  title  = "CONFIG_MITIGATION_MDS = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_TAA" {
  title  = "CONFIG_MITIGATION_TAA = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_MMIO_STALE_DATA" {
  title  = "CONFIG_MITIGATION_MMIO_STALE_DATA = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_L1TF" {
  title  = "CONFIG_MITIGATION_L1TF = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_RETBLEED" {
  title  = "CONFIG_MITIGATION_RETBLEED = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_SRBDS" {
  title  = "CONFIG_MITIGATION_SRBDS = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_TSA" {
  title  = "CONFIG_MITIGATION_TSA = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_VMSCAPE" {
  title  = "CONFIG_MITIGATION_VMSCAPE = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_RANDOMIZE_MEMORY" {
  title  = "CONFIG_RANDOMIZE_MEMORY = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_X86_KERNEL_IBT" {
  title  = "CONFIG_X86_KERNEL_IBT = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_RETHUNK" {
  title  = "CONFIG_MITIGATION_RETHUNK = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_PAGE_TABLE_ISOLATION" {
  title  = "CONFIG_MITIGATION_PAGE_TABLE_ISOLATION = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_UNRET_ENTRY" {
  title  = "CONFIG_MITIGATION_UNRET_ENTRY = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_CALL_DEPTH_TRACKING" {
  title  = "CONFIG_MITIGATION_CALL_DEPTH_TRACKING = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_IBPB_ENTRY" {
  title  = "CONFIG_MITIGATION_IBPB_ENTRY = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_IBRS_ENTRY" {
  title  = "CONFIG_MITIGATION_IBRS_ENTRY = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_SRSO" {
  title  = "CONFIG_MITIGATION_SRSO = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MITIGATION_ITS" {
  title  = "CONFIG_MITIGATION_ITS = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_INTEL_IOMMU" {
  title  = "CONFIG_INTEL_IOMMU = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_AMD_IOMMU" {
  title  = "CONFIG_AMD_IOMMU = y"
  want   = "y"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_RANDOM_KMALLOC_CACHES" {
  title  = "CONFIG_RANDOM_KMALLOC_CACHES = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SLAB_BUCKETS" {
  title  = "CONFIG_SLAB_BUCKETS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SLAB_MERGE_DEFAULT" {
  title  = "CONFIG_SLAB_MERGE_DEFAULT not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_BUG_ON_DATA_CORRUPTION" {
  title  = "CONFIG_BUG_ON_DATA_CORRUPTION = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SLAB_FREELIST_HARDENED" {
  title  = "CONFIG_SLAB_FREELIST_HARDENED = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SLAB_FREELIST_RANDOM" {
  title  = "CONFIG_SLAB_FREELIST_RANDOM = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SHUFFLE_PAGE_ALLOCATOR" {
  title  = "CONFIG_SHUFFLE_PAGE_ALLOCATOR = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_FORTIFY_SOURCE" {
  title  = "CONFIG_FORTIFY_SOURCE = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_DEBUG_VIRTUAL" {
  title  = "CONFIG_DEBUG_VIRTUAL = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_INIT_ON_ALLOC_DEFAULT_ON" {
  title  = "CONFIG_INIT_ON_ALLOC_DEFAULT_ON = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_STATIC_USERMODEHELPER" {
  title  = "CONFIG_STATIC_USERMODEHELPER = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SECURITY_LOCKDOWN_LSM" {
  title  = "CONFIG_SECURITY_LOCKDOWN_LSM = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_LSM" {
  title  = "CONFIG_LSM = *lockdown*"
  want   = "*lockdown*"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_SECURITY_LOCKDOWN_LSM_EARLY" {
  title  = "CONFIG_SECURITY_LOCKDOWN_LSM_EARLY = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY" {
  title  = "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_DEBUG_SG" {
  title  = "CONFIG_DEBUG_SG = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_ZERO_CALL_USED_REGS" {
  title  = "CONFIG_ZERO_CALL_USED_REGS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_DEBUG_CREDENTIALS" {
  title  = "CONFIG_DEBUG_CREDENTIALS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_DEBUG_NOTIFIERS" {
  title  = "CONFIG_DEBUG_NOTIFIERS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_KFENCE" {
  title  = "CONFIG_KFENCE = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_KFENCE_SAMPLE_INTERVAL" {
  title  = "CONFIG_KFENCE_SAMPLE_INTERVAL = 100"
  want   = "100"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_RANDSTRUCT_FULL" {
  title  = "CONFIG_RANDSTRUCT_FULL = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_HARDENED_USERCOPY" {
  title  = "CONFIG_HARDENED_USERCOPY = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_HARDENED_USERCOPY_DEFAULT_ON" {
  title  = "CONFIG_HARDENED_USERCOPY_DEFAULT_ON = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["kconfig-hardened-usercopy-default"]
  note   = "documented exception in kconfig-hardened-usercopy-default: not in 6.12; hardened_usercopy=1 on the signed command line."
}

item "kconfig CONFIG_HARDENED_USERCOPY_FALLBACK" {
  title  = "CONFIG_HARDENED_USERCOPY_FALLBACK not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_HARDENED_USERCOPY_PAGESPAN" {
  title  = "CONFIG_HARDENED_USERCOPY_PAGESPAN not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_GCC_PLUGIN_LATENT_ENTROPY" {
  title  = "CONFIG_GCC_PLUGIN_LATENT_ENTROPY = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_MODULE_SIG" {
  title  = "CONFIG_MODULE_SIG = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_MODULE_SIG_ALL" {
  title  = "CONFIG_MODULE_SIG_ALL = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_MODULE_SIG_SHA512" {
  title  = "CONFIG_MODULE_SIG_SHA512 = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_MODULE_SIG_FORCE" {
  title  = "CONFIG_MODULE_SIG_FORCE = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_INIT_ON_FREE_DEFAULT_ON" {
  title  = "CONFIG_INIT_ON_FREE_DEFAULT_ON = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_EFI_DISABLE_PCI_DMA" {
  title  = "CONFIG_EFI_DISABLE_PCI_DMA = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_RESET_ATTACK_MITIGATION" {
  title  = "CONFIG_RESET_ATTACK_MITIGATION = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_UBSAN_BOUNDS" {
  title  = "CONFIG_UBSAN_BOUNDS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_UBSAN_LOCAL_BOUNDS" {
  title  = "CONFIG_UBSAN_LOCAL_BOUNDS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_UBSAN_TRAP" {
  title  = "CONFIG_UBSAN_TRAP = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_UBSAN_SANITIZE_ALL" {
  title  = "CONFIG_UBSAN_SANITIZE_ALL = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_SCHED_STACK_END_CHECK" {
  title  = "CONFIG_SCHED_STACK_END_CHECK = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_KSTACK_ERASE" {
  title  = "CONFIG_KSTACK_ERASE = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_KSTACK_ERASE_METRICS" {
  title  = "CONFIG_KSTACK_ERASE_METRICS not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_KSTACK_ERASE_RUNTIME_DISABLE" {
  title  = "CONFIG_KSTACK_ERASE_RUNTIME_DISABLE not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_SCHED_CORE" {
  title  = "CONFIG_SCHED_CORE = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_LIST_HARDENED" {
  title  = "CONFIG_LIST_HARDENED = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_RANDOMIZE_KSTACK_OFFSET_DEFAULT" {
  title  = "CONFIG_RANDOMIZE_KSTACK_OFFSET_DEFAULT = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_PAGE_TABLE_CHECK" {
  title  = "CONFIG_PAGE_TABLE_CHECK = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_PAGE_TABLE_CHECK_ENFORCED" {
  title  = "CONFIG_PAGE_TABLE_CHECK_ENFORCED = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_DEFAULT_MMAP_MIN_ADDR" {
  title  = "CONFIG_DEFAULT_MMAP_MIN_ADDR = 65536"
  want   = "65536"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_HW_RANDOM_TPM" {
  title  = "CONFIG_HW_RANDOM_TPM = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_CFI_CLANG" {
  title  = "CONFIG_CFI_CLANG = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["kconfig-cfi-clang"]
  note   = "documented exception in kconfig-cfi-clang: the hardened kernel is built with GCC (plugins), kCFI needs clang; IBT and return thunks instead."
}

item "kconfig CONFIG_CFI_PERMISSIVE" {
  title  = "CONFIG_CFI_PERMISSIVE not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["kconfig-cfi-clang"]
  note   = "documented exception in kconfig-cfi-clang: the hardened kernel is built with GCC (plugins), kCFI needs clang; IBT and return thunks instead."
}

item "kconfig CONFIG_IOMMU_DEFAULT_DMA_STRICT" {
  title  = "CONFIG_IOMMU_DEFAULT_DMA_STRICT = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_IOMMU_DEFAULT_DMA_LAZY" {
  title  = "CONFIG_IOMMU_DEFAULT_DMA_LAZY not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_INTEL_IOMMU_DEFAULT_ON" {
  title  = "CONFIG_INTEL_IOMMU_DEFAULT_ON = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_CFI_AUTO_DEFAULT" {
  title  = "CONFIG_CFI_AUTO_DEFAULT not set"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["kconfig-cfi-clang"]
  note   = "documented exception in kconfig-cfi-clang: the hardened kernel is built with GCC (plugins), kCFI needs clang; IBT and return thunks instead."
}

item "kconfig CONFIG_MITIGATION_SLS" {
  title  = "CONFIG_MITIGATION_SLS = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_INTEL_IOMMU_SVM" {
  title  = "CONFIG_INTEL_IOMMU_SVM = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["kconfig-kspp-self-protection"]
}

item "kconfig CONFIG_AMD_IOMMU_V2" {
  title  = "CONFIG_AMD_IOMMU_V2 = y"
  want   = "y"
  source = "kspp"
  class  = "self_protection"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_SECURITY" {
  title  = "CONFIG_SECURITY = y"
  want   = "y"
  source = "defconfig"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_YAMA" {
  title  = "CONFIG_SECURITY_YAMA = y"
  want   = "y"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_LANDLOCK" {
  title  = "CONFIG_SECURITY_LANDLOCK = y"
  want   = "y"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_SELINUX_DISABLE" {
  title  = "CONFIG_SECURITY_SELINUX_DISABLE not set"
  want   = "is not set"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_SELINUX_BOOTPARAM" {
  title  = "CONFIG_SECURITY_SELINUX_BOOTPARAM not set"
  want   = "is not set"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_SELINUX_DEVELOP" {
  title  = "CONFIG_SECURITY_SELINUX_DEVELOP not set"
  want   = "is not set"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_WRITABLE_HOOKS" {
  title  = "CONFIG_SECURITY_WRITABLE_HOOKS not set"
  want   = "is not set"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_SELINUX_DEBUG" {
  title  = "CONFIG_SECURITY_SELINUX_DEBUG not set"
  want   = "is not set"
  source = "kspp"
  class  = "security_policy"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_SECURITY_SELINUX" {
  title  = "CONFIG_SECURITY_SELINUX = y"
  want   = "y"
  source = "a13xp0p0v"
  class  = "security_policy"
  status = "exception"
  by     = ["kconfig-selinux"]
  note   = "documented exception in kconfig-selinux: no SELinux policy; systemd per-unit sandboxing, lockdown, Yama, Landlock; vm.mmap_min_addr=65536."
}

item "kconfig CONFIG_SECCOMP" {
  title  = "CONFIG_SECCOMP = y"
  want   = "y"
  source = "defconfig"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_SECCOMP_FILTER" {
  title  = "CONFIG_SECCOMP_FILTER = y"
  want   = "y"
  source = "defconfig"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BPF_UNPRIV_DEFAULT_OFF" {
  title  = "CONFIG_BPF_UNPRIV_DEFAULT_OFF = y"
  want   = "y"
  source = "defconfig"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_STRICT_DEVMEM" {
  title  = "CONFIG_STRICT_DEVMEM = y"
  want   = "y"
  source = "defconfig"
  class  = "cut_attack_surface"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_X86_INTEL_TSX_MODE_OFF" {
  title  = "CONFIG_X86_INTEL_TSX_MODE_OFF = y"
  want   = "y"
  source = "defconfig"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_SECURITY_DMESG_RESTRICT" {
  title  = "CONFIG_SECURITY_DMESG_RESTRICT = y"
  want   = "y"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ACPI_CUSTOM_METHOD" {
  title  = "CONFIG_ACPI_CUSTOM_METHOD not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_COMPAT_BRK" {
  title  = "CONFIG_COMPAT_BRK not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DEVKMEM" {
  title  = "CONFIG_DEVKMEM not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BINFMT_MISC" {
  title  = "CONFIG_BINFMT_MISC not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_INET_DIAG" {
  title  = "CONFIG_INET_DIAG not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KEXEC" {
  title  = "CONFIG_KEXEC not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PROC_KCORE" {
  title  = "CONFIG_PROC_KCORE not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_LEGACY_PTYS" {
  title  = "CONFIG_LEGACY_PTYS not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_HIBERNATION" {
  title  = "CONFIG_HIBERNATION not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_COMPAT" {
  title  = "CONFIG_COMPAT not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_IA32_EMULATION" {
  title  = "CONFIG_IA32_EMULATION not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_X32" {
  title  = "CONFIG_X86_X32 not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_X32_ABI" {
  title  = "CONFIG_X86_X32_ABI not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MODIFY_LDT_SYSCALL" {
  title  = "CONFIG_MODIFY_LDT_SYSCALL not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_OABI_COMPAT" {
  title  = "CONFIG_OABI_COMPAT not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_MSR" {
  title  = "CONFIG_X86_MSR not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_LEGACY_TIOCSTI" {
  title  = "CONFIG_LEGACY_TIOCSTI not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MODULE_FORCE_LOAD" {
  title  = "CONFIG_MODULE_FORCE_LOAD not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_M486" {
  title  = "CONFIG_M486 not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MODULES" {
  title  = "CONFIG_MODULES not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DEVMEM" {
  title  = "CONFIG_DEVMEM not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_IO_STRICT_DEVMEM" {
  title  = "CONFIG_IO_STRICT_DEVMEM = y"
  want   = "y"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_LDISC_AUTOLOAD" {
  title  = "CONFIG_LDISC_AUTOLOAD not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_VSYSCALL_EMULATION" {
  title  = "CONFIG_X86_VSYSCALL_EMULATION not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_COMPAT_VDSO" {
  title  = "CONFIG_COMPAT_VDSO not set"
  want   = "is not set"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DRM_LEGACY" {
  title  = "CONFIG_DRM_LEGACY not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_FB" {
  title  = "CONFIG_FB not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_VT" {
  title  = "CONFIG_VT not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BLK_DEV_FD" {
  title  = "CONFIG_BLK_DEV_FD not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BLK_DEV_FD_RAWCMD" {
  title  = "CONFIG_BLK_DEV_FD_RAWCMD not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_NOUVEAU_LEGACY_CTX_SUPPORT" {
  title  = "CONFIG_NOUVEAU_LEGACY_CTX_SUPPORT not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_N_GSM" {
  title  = "CONFIG_N_GSM not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API" {
  title  = "CONFIG_CRYPTO_USER_API not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API_ENABLE_OBSOLETE" {
  title  = "CONFIG_CRYPTO_USER_API_ENABLE_OBSOLETE not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API_AEAD" {
  title  = "CONFIG_CRYPTO_USER_API_AEAD not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API_HASH" {
  title  = "CONFIG_CRYPTO_USER_API_HASH not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API_RNG" {
  title  = "CONFIG_CRYPTO_USER_API_RNG not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API_RNG_CAVP" {
  title  = "CONFIG_CRYPTO_USER_API_RNG_CAVP not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRYPTO_USER_API_SKCIPHER" {
  title  = "CONFIG_CRYPTO_USER_API_SKCIPHER not set"
  want   = "is not set"
  source = "maintainer"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ZSMALLOC_STAT" {
  title  = "CONFIG_ZSMALLOC_STAT not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DEBUG_KMEMLEAK" {
  title  = "CONFIG_DEBUG_KMEMLEAK not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BINFMT_AOUT" {
  title  = "CONFIG_BINFMT_AOUT not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KPROBE_EVENTS" {
  title  = "CONFIG_KPROBE_EVENTS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_UPROBE_EVENTS" {
  title  = "CONFIG_UPROBE_EVENTS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_GENERIC_TRACER" {
  title  = "CONFIG_GENERIC_TRACER not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_FUNCTION_TRACER" {
  title  = "CONFIG_FUNCTION_TRACER not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_STACK_TRACER" {
  title  = "CONFIG_STACK_TRACER not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_HIST_TRIGGERS" {
  title  = "CONFIG_HIST_TRIGGERS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BLK_DEV_IO_TRACE" {
  title  = "CONFIG_BLK_DEV_IO_TRACE not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PROC_VMCORE" {
  title  = "CONFIG_PROC_VMCORE not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PROC_PAGE_MONITOR" {
  title  = "CONFIG_PROC_PAGE_MONITOR not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_USELIB" {
  title  = "CONFIG_USELIB not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CHECKPOINT_RESTORE" {
  title  = "CONFIG_CHECKPOINT_RESTORE not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_USERFAULTFD" {
  title  = "CONFIG_USERFAULTFD not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_HWPOISON_INJECT" {
  title  = "CONFIG_HWPOISON_INJECT not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MEM_SOFT_DIRTY" {
  title  = "CONFIG_MEM_SOFT_DIRTY not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DEVPORT" {
  title  = "CONFIG_DEVPORT not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DEBUG_FS" {
  title  = "CONFIG_DEBUG_FS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_NOTIFIER_ERROR_INJECTION" {
  title  = "CONFIG_NOTIFIER_ERROR_INJECTION not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_FAIL_FUTEX" {
  title  = "CONFIG_FAIL_FUTEX not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PUNIT_ATOM_DEBUG" {
  title  = "CONFIG_PUNIT_ATOM_DEBUG not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ACPI_CONFIGFS" {
  title  = "CONFIG_ACPI_CONFIGFS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_EDAC_DEBUG" {
  title  = "CONFIG_EDAC_DEBUG not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DRM_I915_DEBUG" {
  title  = "CONFIG_DRM_I915_DEBUG not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DVB_C8SECTPFE" {
  title  = "CONFIG_DVB_C8SECTPFE not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MTD_SLRAM" {
  title  = "CONFIG_MTD_SLRAM not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MTD_PHRAM" {
  title  = "CONFIG_MTD_PHRAM not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_IO_URING" {
  title  = "CONFIG_IO_URING not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KCMP" {
  title  = "CONFIG_KCMP not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_RSEQ" {
  title  = "CONFIG_RSEQ not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_LATENCYTOP" {
  title  = "CONFIG_LATENCYTOP not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KCOV" {
  title  = "CONFIG_KCOV not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PROVIDE_OHCI1394_DMA_INIT" {
  title  = "CONFIG_PROVIDE_OHCI1394_DMA_INIT not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_SUNRPC_DEBUG" {
  title  = "CONFIG_SUNRPC_DEBUG not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_16BIT" {
  title  = "CONFIG_X86_16BIT not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BLK_DEV_UBLK" {
  title  = "CONFIG_BLK_DEV_UBLK not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_SMB_SERVER" {
  title  = "CONFIG_SMB_SERVER not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_XFS_ONLINE_SCRUB_STATS" {
  title  = "CONFIG_XFS_ONLINE_SCRUB_STATS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CACHESTAT_SYSCALL" {
  title  = "CONFIG_CACHESTAT_SYSCALL not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PREEMPTIRQ_TRACEPOINTS" {
  title  = "CONFIG_PREEMPTIRQ_TRACEPOINTS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ENABLE_DEFAULT_TRACERS" {
  title  = "CONFIG_ENABLE_DEFAULT_TRACERS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PROVE_LOCKING" {
  title  = "CONFIG_PROVE_LOCKING not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_TEST_DEBUG_VIRTUAL" {
  title  = "CONFIG_TEST_DEBUG_VIRTUAL not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MPTCP" {
  title  = "CONFIG_MPTCP not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_TLS" {
  title  = "CONFIG_TLS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_TIPC" {
  title  = "CONFIG_TIPC not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_IP_SCTP" {
  title  = "CONFIG_IP_SCTP not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KGDB" {
  title  = "CONFIG_KGDB not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_PTDUMP_DEBUGFS" {
  title  = "CONFIG_PTDUMP_DEBUGFS not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_PTDUMP" {
  title  = "CONFIG_X86_PTDUMP not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_DEBUG_CLOSURES" {
  title  = "CONFIG_DEBUG_CLOSURES not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BCACHE_CLOSURES_DEBUG" {
  title  = "CONFIG_BCACHE_CLOSURES_DEBUG not set"
  want   = "is not set"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_STAGING" {
  title  = "CONFIG_STAGING not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KSM" {
  title  = "CONFIG_KSM not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KALLSYMS" {
  title  = "CONFIG_KALLSYMS not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KEXEC_FILE" {
  title  = "CONFIG_KEXEC_FILE not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRASH_DUMP" {
  title  = "CONFIG_CRASH_DUMP not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_USER_NS" {
  title  = "CONFIG_USER_NS not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_CPUID" {
  title  = "CONFIG_X86_CPUID not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_X86_IOPL_IOPERM" {
  title  = "CONFIG_X86_IOPL_IOPERM not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ACPI_TABLE_UPGRADE" {
  title  = "CONFIG_ACPI_TABLE_UPGRADE not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_EFI_CUSTOM_SSDT_OVERLAYS" {
  title  = "CONFIG_EFI_CUSTOM_SSDT_OVERLAYS not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_AIO" {
  title  = "CONFIG_AIO not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MAGIC_SYSRQ" {
  title  = "CONFIG_MAGIC_SYSRQ not set"
  want   = "is not set"
  source = "clipos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MAGIC_SYSRQ_SERIAL" {
  title  = "CONFIG_MAGIC_SYSRQ_SERIAL not set"
  want   = "is not set"
  source = "grapheneos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_EFI_TEST" {
  title  = "CONFIG_EFI_TEST not set"
  want   = "is not set"
  source = "lockdown"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_MMIOTRACE_TEST" {
  title  = "CONFIG_MMIOTRACE_TEST not set"
  want   = "is not set"
  source = "lockdown"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_KPROBES" {
  title  = "CONFIG_KPROBES not set"
  want   = "is not set"
  source = "lockdown"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BPF_SYSCALL" {
  title  = "CONFIG_BPF_SYSCALL not set"
  want   = "is not set"
  source = "lockdown"
  class  = "cut_attack_surface"
  status = "exception"
  by     = ["kconfig-no-bpf-syscall"]
  note   = "the XDP filter needs bpf(); documented exception in kconfig-no-bpf-syscall, compensated by sysctl-bpf-restrict, svc-xdp-caps, svc-supernode-caps and audit-rules."
}

item "kconfig CONFIG_MMIOTRACE" {
  title  = "CONFIG_MMIOTRACE not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_LIVEPATCH" {
  title  = "CONFIG_LIVEPATCH not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_IP_DCCP" {
  title  = "CONFIG_IP_DCCP not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_FTRACE" {
  title  = "CONFIG_FTRACE not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_VIDEO_VIVID" {
  title  = "CONFIG_VIDEO_VIVID not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_INPUT_EVBUG" {
  title  = "CONFIG_INPUT_EVBUG not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CORESIGHT" {
  title  = "CONFIG_CORESIGHT not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_XFS_SUPPORT_V4" {
  title  = "CONFIG_XFS_SUPPORT_V4 not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_BLK_DEV_WRITE_MOUNTED" {
  title  = "CONFIG_BLK_DEV_WRITE_MOUNTED not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_FAULT_INJECTION" {
  title  = "CONFIG_FAULT_INJECTION not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ARM_PTDUMP_DEBUGFS" {
  title  = "CONFIG_ARM_PTDUMP_DEBUGFS not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_ARM_PTDUMP" {
  title  = "CONFIG_ARM_PTDUMP not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_SECCOMP_CACHE_DEBUG" {
  title  = "CONFIG_SECCOMP_CACHE_DEBUG not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_CRASH_DM_CRYPT" {
  title  = "CONFIG_CRASH_DM_CRYPT not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_LKDTM" {
  title  = "CONFIG_LKDTM not set"
  want   = "is not set"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["kconfig-kspp-attack-surface"]
}

item "kconfig CONFIG_TRIM_UNUSED_KSYMS" {
  title  = "CONFIG_TRIM_UNUSED_KSYMS = y"
  want   = "y"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_SYN_COOKIES" {
  title  = "CONFIG_SYN_COOKIES = y"
  want   = "y"
  source = "defconfig"
  class  = "network_security"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_PROC_MEM_NO_FORCE" {
  title  = "CONFIG_PROC_MEM_NO_FORCE = y"
  want   = "y"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_COREDUMP" {
  title  = "CONFIG_COREDUMP not set"
  want   = "is not set"
  source = "clipos"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "kconfig CONFIG_ARCH_MMAP_RND_BITS" {
  title  = "CONFIG_ARCH_MMAP_RND_BITS = MAX"
  want   = "MAX"
  source = "a13xp0p0v"
  class  = "harden_userspace"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_ARCH_MMAP_RND_COMPAT_BITS" {
  title  = "CONFIG_ARCH_MMAP_RND_COMPAT_BITS = MAX"
  want   = "MAX"
  source = "a13xp0p0v"
  class  = "harden_userspace"
  status = "open"
  note   = "kernel-hardening-checker accepts an alternative on the hardened kernel (tests/kernel); no control cites the option itself"
}

item "kconfig CONFIG_X86_USER_SHADOW_STACK" {
  title  = "CONFIG_X86_USER_SHADOW_STACK = y"
  want   = "y"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["kconfig-kspp-policy"]
}

item "cmdline nokaslr" {
  title  = "no nokaslr on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline no_hash_pointers" {
  title  = "no no_hash_pointers on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nosmep" {
  title  = "no nosmep on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nosmap" {
  title  = "no nosmap on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline dis_ucode_ldr" {
  title  = "no dis_ucode_ldr on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline setcpuid" {
  title  = "no setcpuid on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline clearcpuid" {
  title  = "no clearcpuid on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nopti" {
  title  = "no nopti on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nospec_store_bypass_disable" {
  title  = "no nospec_store_bypass_disable on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nospectre_v1" {
  title  = "no nospectre_v1 on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nospectre_v2" {
  title  = "no nospectre_v2 on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline nospectre_bhb" {
  title  = "no nospectre_bhb on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline arm64.nobti" {
  title  = "no arm64.nobti on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "not-applicable"
  reason = "not-x86"
}

item "cmdline arm64.nopauth" {
  title  = "no arm64.nopauth on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "not-applicable"
  reason = "not-x86"
}

item "cmdline arm64.nomte" {
  title  = "no arm64.nomte on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "not-applicable"
  reason = "not-x86"
}

item "cmdline arm64.nogcs" {
  title  = "no arm64.nogcs on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "self_protection"
  status = "not-applicable"
  reason = "not-x86"
}

item "cmdline iommu.passthrough" {
  title  = "iommu.passthrough = 0"
  want   = "0"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-iommu"]
}

item "cmdline rodata" {
  title  = "rodata = on"
  want   = "on"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline spectre_v2" {
  title  = "spectre_v2 mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline spectre_v2_user" {
  title  = "spectre_v2_user mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline spectre_bhi" {
  title  = "spectre_bhi mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline spec_store_bypass_disable" {
  title  = "spec_store_bypass_disable mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline l1tf" {
  title  = "l1tf mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline mds" {
  title  = "mds mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline tsx_async_abort" {
  title  = "tsx_async_abort mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline srbds" {
  title  = "srbds mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline mmio_stale_data" {
  title  = "mmio_stale_data mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline retbleed" {
  title  = "retbleed mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline spec_rstack_overflow" {
  title  = "spec_rstack_overflow mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline gather_data_sampling" {
  title  = "gather_data_sampling mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline reg_file_data_sampling" {
  title  = "reg_file_data_sampling mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline tsa" {
  title  = "tsa mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline indirect_target_selection" {
  title  = "indirect_target_selection mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline vmscape" {
  title  = "vmscape mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "open"
}

item "cmdline amd_iommu" {
  title  = "amd_iommu mitigation not turned off"
  want   = "is not off"
  source = "defconfig"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-iommu"]
}

item "cmdline slab_merge" {
  title  = "no slab_merge on the command line"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline slub_merge" {
  title  = "no slub_merge on the command line"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline page_alloc.shuffle" {
  title  = "page_alloc.shuffle = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-page-alloc-shuffle"]
}

item "cmdline hash_pointers" {
  title  = "hash_pointers = always"
  want   = "always"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["cmdline-hash-pointers"]
  note   = "documented exception in cmdline-hash-pointers: not in 6.12, which hashes %p by default; kptr_restrict=2."
}

item "cmdline slab_nomerge" {
  title  = "slab_nomerge on the command line"
  want   = "is present"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-slab-nomerge"]
}

item "cmdline init_on_alloc" {
  title  = "init_on_alloc = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-init-on-alloc-free"]
}

item "cmdline init_on_free" {
  title  = "init_on_free = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-init-on-alloc-free"]
}

item "cmdline hardened_usercopy" {
  title  = "hardened_usercopy = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-hardened-usercopy"]
}

item "cmdline slab_common.usercopy_fallback" {
  title  = "no slab_common.usercopy_fallback on the command line"
  want   = "is not set"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline kfence.sample_interval" {
  title  = "kfence.sample_interval = 100"
  want   = "100"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-kfence"]
}

item "cmdline lockdown" {
  title  = "lockdown = confidentiality"
  want   = "confidentiality"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["cmdline-lockdown", "boot-lockdown-live", "cmdline-lockdown-confidentiality"]
  note   = "documented exception in cmdline-lockdown-confidentiality: the command line sets integrity (what the verified boot chain needs); the hardened kernel forces confidentiality at build time."
}

item "cmdline module.sig_enforce" {
  title  = "module.sig_enforce = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-module-sig-enforce"]
}

item "cmdline efi" {
  title  = "efi = *disable_early_pci_dma*"
  want   = "*disable_early_pci_dma*"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-iommu"]
}

item "cmdline randomize_kstack_offset" {
  title  = "randomize_kstack_offset = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-randomize-kstack"]
}

item "cmdline mitigations" {
  title  = "mitigations = auto,nosmt"
  want   = "auto,nosmt"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["cmdline-nosmt"]
  note   = "mitigations=auto without nosmt: documented exception in cmdline-nosmt (single-tenant appliance; SMT off would halve XDP throughput)."
}

item "cmdline intel_iommu" {
  title  = "intel_iommu = on"
  want   = "on"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-iommu"]
}

item "cmdline iommu.strict" {
  title  = "iommu.strict = 1"
  want   = "1"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-iommu"]
}

item "cmdline pti" {
  title  = "pti = on"
  want   = "on"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-pti"]
}

item "cmdline cfi" {
  title  = "cfi = kcfi"
  want   = "kcfi"
  source = "kspp"
  class  = "self_protection"
  status = "exception"
  by     = ["cmdline-cfi-kcfi"]
  note   = "documented exception in cmdline-cfi-kcfi: no kCFI build to select."
}

item "cmdline iommu" {
  title  = "iommu = force"
  want   = "force"
  source = "clipos"
  class  = "self_protection"
  status = "implemented"
  by     = ["cmdline-iommu"]
}

item "cmdline tsx" {
  title  = "tsx = off"
  want   = "off"
  source = "defconfig"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["cmdline-tsx-off"]
}

item "cmdline nosmt" {
  title  = "nosmt on the command line"
  want   = "is present"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "exception"
  by     = ["cmdline-nosmt"]
  note   = "see cmdline-nosmt: SMT stays on by a documented exception."
}

item "cmdline vsyscall" {
  title  = "vsyscall = none"
  want   = "none"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["cmdline-vsyscall-none"]
}

item "cmdline vdso32" {
  title  = "vdso32 = 0"
  want   = "0"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "open"
}

item "cmdline ia32_emulation" {
  title  = "ia32_emulation = 0"
  want   = "0"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["cmdline-ia32-emulation-off"]
}

item "cmdline debugfs" {
  title  = "debugfs = off"
  want   = "off"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["cmdline-debugfs-off"]
}

item "cmdline sysrq_always_enabled" {
  title  = "no sysrq_always_enabled on the command line"
  want   = "is not set"
  source = "grapheneos"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline bdev_allow_write_mounted" {
  title  = "bdev_allow_write_mounted = 0"
  want   = "0"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["cmdline-bdev-write-mounted"]
}

item "cmdline norandmaps" {
  title  = "no norandmaps on the command line"
  want   = "is not set"
  source = "defconfig"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["cmdline-no-weakening"]
}

item "cmdline proc_mem.force_override" {
  title  = "proc_mem.force_override = never"
  want   = "never"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["cmdline-proc-mem-no-force"]
}

item "sysctl net.core.bpf_jit_harden" {
  title  = "net.core.bpf_jit_harden = 2"
  want   = "2"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["sysctl-bpf-restrict"]
}

item "sysctl vm.mmap_min_addr" {
  title  = "vm.mmap_min_addr = 65536"
  want   = "65536"
  source = "kspp"
  class  = "self_protection"
  status = "implemented"
  by     = ["sysctl-mmap-min-addr"]
}

item "sysctl kernel.oops_limit" {
  title  = "kernel.oops_limit = 100"
  want   = "100"
  source = "a13xp0p0v"
  class  = "self_protection"
  status = "implemented"
  by     = ["sysctl-oops-warn-limit"]
}

item "sysctl kernel.warn_limit" {
  title  = "kernel.warn_limit = 100"
  want   = "100"
  source = "a13xp0p0v"
  class  = "self_protection"
  status = "implemented"
  by     = ["sysctl-oops-warn-limit"]
}

item "sysctl kernel.apparmor_restrict_unprivileged_unconfined" {
  title  = "kernel.apparmor_restrict_unprivileged_unconfined = 1"
  want   = "1"
  source = "ubuntu"
  class  = "security_policy"
  status = "not-applicable"
  reason = "ubuntu-only"
}

item "sysctl kernel.dmesg_restrict" {
  title  = "kernel.dmesg_restrict = 1"
  want   = "1"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-dmesg-restrict"]
}

item "sysctl kernel.perf_event_paranoid" {
  title  = "kernel.perf_event_paranoid = 3"
  want   = "3"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-perf-event-paranoid"]
}

item "sysctl dev.tty.ldisc_autoload" {
  title  = "dev.tty.ldisc_autoload = 0"
  want   = "0"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-tty"]
}

item "sysctl kernel.kptr_restrict" {
  title  = "kernel.kptr_restrict = 2"
  want   = "2"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-kptr-restrict"]
}

item "sysctl dev.tty.legacy_tiocsti" {
  title  = "dev.tty.legacy_tiocsti = 0"
  want   = "0"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-tty"]
}

item "sysctl user.max_user_namespaces" {
  title  = "user.max_user_namespaces = 0"
  want   = "0"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-user-namespaces-off"]
}

item "sysctl kernel.kexec_load_disabled" {
  title  = "kernel.kexec_load_disabled = 1"
  want   = "1"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-kexec-disabled"]
}

item "sysctl kernel.unprivileged_bpf_disabled" {
  title  = "kernel.unprivileged_bpf_disabled = 1"
  want   = "1"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-bpf-restrict"]
}

item "sysctl vm.unprivileged_userfaultfd" {
  title  = "vm.unprivileged_userfaultfd = 0"
  want   = "0"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-userfaultfd"]
}

item "sysctl kernel.modules_disabled" {
  title  = "kernel.modules_disabled = 1"
  want   = "1"
  source = "kspp"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["modules-lock", "modules-disabled-live"]
}

item "sysctl kernel.io_uring_disabled" {
  title  = "kernel.io_uring_disabled = 2"
  want   = "2"
  source = "grsec"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-io-uring-disabled"]
}

item "sysctl kernel.sysrq" {
  title  = "kernel.sysrq = 0"
  want   = "0"
  source = "a13xp0p0v"
  class  = "cut_attack_surface"
  status = "implemented"
  by     = ["sysctl-sysrq"]
}

item "sysctl net.ipv4.icmp_ignore_bogus_error_responses" {
  title  = "net.ipv4.icmp_ignore_bogus_error_responses = 1"
  want   = "1"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-icmp-bogus-broadcast"]
}

item "sysctl net.ipv4.icmp_echo_ignore_broadcasts" {
  title  = "net.ipv4.icmp_echo_ignore_broadcasts = 1"
  want   = "1"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-icmp-bogus-broadcast"]
}

item "sysctl net.ipv4.conf.all.accept_redirects" {
  title  = "net.ipv4.conf.all.accept_redirects = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "sysctl net.ipv4.conf.default.accept_redirects" {
  title  = "net.ipv4.conf.default.accept_redirects = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "sysctl net.ipv6.conf.all.accept_redirects" {
  title  = "net.ipv6.conf.all.accept_redirects = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "sysctl net.ipv6.conf.default.accept_redirects" {
  title  = "net.ipv6.conf.default.accept_redirects = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-accept-redirects"]
}

item "sysctl net.ipv4.conf.all.accept_source_route" {
  title  = "net.ipv4.conf.all.accept_source_route = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "sysctl net.ipv4.conf.default.accept_source_route" {
  title  = "net.ipv4.conf.default.accept_source_route = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "sysctl net.ipv6.conf.all.accept_source_route" {
  title  = "net.ipv6.conf.all.accept_source_route = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "sysctl net.ipv6.conf.default.accept_source_route" {
  title  = "net.ipv6.conf.default.accept_source_route = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-source-route"]
}

item "sysctl net.ipv4.tcp_syncookies" {
  title  = "net.ipv4.tcp_syncookies = 1"
  want   = "1"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-syncookies"]
}

item "sysctl net.ipv6.conf.all.accept_ra" {
  title  = "net.ipv6.conf.all.accept_ra = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-accept-ra"]
}

item "sysctl net.ipv6.conf.default.accept_ra" {
  title  = "net.ipv6.conf.default.accept_ra = 0"
  want   = "0"
  source = "cis"
  class  = "network_security"
  status = "implemented"
  by     = ["sysctl-accept-ra"]
}

item "sysctl fs.protected_symlinks" {
  title  = "fs.protected_symlinks = 1"
  want   = "1"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-fs-protected"]
}

item "sysctl fs.protected_hardlinks" {
  title  = "fs.protected_hardlinks = 1"
  want   = "1"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-fs-protected"]
}

item "sysctl fs.protected_fifos" {
  title  = "fs.protected_fifos = 2"
  want   = "2"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-fs-protected"]
}

item "sysctl fs.protected_regular" {
  title  = "fs.protected_regular = 2"
  want   = "2"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-fs-protected"]
}

item "sysctl fs.suid_dumpable" {
  title  = "fs.suid_dumpable = 0"
  want   = "0"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-core-dumps"]
}

item "sysctl kernel.randomize_va_space" {
  title  = "kernel.randomize_va_space = 2"
  want   = "2"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-aslr"]
}

item "sysctl kernel.yama.ptrace_scope" {
  title  = "kernel.yama.ptrace_scope = 3"
  want   = "3"
  source = "kspp"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-yama-ptrace"]
}

item "sysctl vm.mmap_rnd_bits" {
  title  = "vm.mmap_rnd_bits = MAX"
  want   = "MAX"
  source = "a13xp0p0v"
  class  = "harden_userspace"
  status = "implemented"
  by     = ["sysctl-mmap-rnd-bits"]
}

item "sysctl vm.mmap_rnd_compat_bits" {
  title  = "vm.mmap_rnd_compat_bits = MAX"
  want   = "MAX"
  source = "a13xp0p0v"
  class  = "harden_userspace"
  status = "open"
}

item "sysctl kernel.unprivileged_userns_clone" {
  title  = "kernel.unprivileged_userns_clone = 0 (Debian patch)"
  want   = "0"
  source = "debian"
  extra  = true
  status = "implemented"
  by     = ["sysctl-unprivileged-userns"]
  note   = "Debian's own knob, not in kernel-hardening-checker's list (it checks user.max_user_namespaces); listed because the profile cites it, not counted in the percentage."
}
