package hardening

// checks maps every check method in methods.go to its implementation.
var checks map[string]checkFunc

func init() {
	checks = map[string]checkFunc{
		"cmdline":              checkCmdline,
		"sysctl":               checkSysctl,
		"modprobe":             checkModprobe,
		"kconfig":              checkKconfig,
		"lockdown":             checkLockdown,
		"mount":                checkMount,
		"file-mode":            checkFileMode,
		"no-suid":              checkNoSUID,
		"absent":               checkAbsent,
		"verity":               checkVerity,
		"root-locked":          checkRootLocked,
		"no-passwords":         checkNoPasswords,
		"nologin-shells":       checkNologin,
		"systemd-conf":         checkSystemdConf,
		"masked":               checkMasked,
		"unit-enabled":         checkUnitEnabled,
		"enabled-units":        checkEnabledUnits,
		"unit-caps":            checkUnitCaps,
		"exposure":             checkExposure,
		"audit-rules":          checkAuditRules,
		"nftables":             checkNftables,
		"listening":            checkListening,
		"xdp":                  checkXDP,
		"uki":                  checkUKI,
		"secure-boot":          checkSecureBoot,
		"stamp":                checkStamp,
		"credential-allowlist": checkCredentialAllowlist,
		"signed-cmdline":       checkSignedCmdline,
		"initrd-no-shell":      checkInitrdNoShell,
	}
}
