package builder

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
)

// SMBIOSCmdlineName is the SMBIOS type 11 OEM string sd-stub (systemd 257)
// appends to the kernel command line, Secure Boot or not: only its
// confidential-VM test (`if (is_confidential_vm()) return;` before the
// lookup, src/boot/stub.c cmdline_append_and_measure_smbios) skips it.
const SMBIOSCmdlineName = "io.systemd.stub.kernel-cmdline-extra"

// StubPatch records how PatchStubSMBIOS changed the stub, for the manifest
// and for review: one conditional jump made unconditional.
type StubPatch struct {
	Offset int    `json:"offset"` // file offset of the patched instruction
	Before string `json:"before"` // hex bytes replaced
	After  string `json:"after"`  // hex bytes written
	What   string `json:"what"`
}

// PatchStubSMBIOS makes a copy of sd-stub that never reads the SMBIOS
// command line extension: the jump that skips the lookup in confidential
// VMs is made unconditional, so every machine is treated as one that may
// not extend the signed command line. Renaming the looked-up string would
// not do: any name can be supplied as an OEM string, only the code path
// can be closed.
//
// The patch is found, not hard-coded, and every step must match exactly
// once, or the build stops: the name string in the file, the one
// RIP-relative LEA that loads its address, and before it the one
// `call; test al,al; jne rel32` whose target lies past that LEA (the
// confidential-VM check jumping over the lookup).
func PatchStubSMBIOS(stub []byte) ([]byte, StubPatch, error) {
	var p StubPatch
	fail := func(format string, a ...any) ([]byte, StubPatch, error) {
		return nil, p, fmt.Errorf("patching sd-stub to ignore SMBIOS %s: "+format+"; the stub's code changed: review the patch in image/builder/stub.go before building", append([]any{SMBIOSCmdlineName}, a...)...)
	}
	f, err := pe.NewFile(bytes.NewReader(stub))
	if err != nil {
		return fail("not a PE file: %v", err)
	}
	name := append([]byte(SMBIOSCmdlineName), 0)
	if n := bytes.Count(stub, name); n != 1 {
		return fail("the name occurs %d times, want 1", n)
	}
	nameOff := bytes.Index(stub, name)
	var nameRVA int64 = -1
	var text *pe.Section
	for _, s := range f.Sections {
		if int64(nameOff) >= int64(s.Offset) && int64(nameOff) < int64(s.Offset)+int64(s.Size) {
			nameRVA = int64(s.VirtualAddress) + int64(nameOff) - int64(s.Offset)
		}
		if s.Name == ".text" {
			text = s
		}
	}
	if nameRVA < 0 || text == nil {
		return fail("no .text section or the name is outside every section")
	}
	code := stub[text.Offset : text.Offset+text.Size]
	rva := func(i int) int64 { return int64(text.VirtualAddress) + int64(i) }

	// lea r64, [rip+disp32]: REX.W (0x48 or 0x4c) 8d, ModRM mod=00 rm=101.
	var leas []int
	for i := 0; i+7 <= len(code); i++ {
		if (code[i] == 0x48 || code[i] == 0x4c) && code[i+1] == 0x8d && code[i+2]&0xc7 == 0x05 {
			disp := int32(binary.LittleEndian.Uint32(code[i+3:]))
			if rva(i+7)+int64(disp) == nameRVA {
				leas = append(leas, i)
			}
		}
	}
	if len(leas) != 1 {
		return fail("%d instructions load the name's address, want 1", len(leas))
	}
	lea := leas[0]

	// e8 rel32 (call is_confidential_vm), 84 c0 (test al,al),
	// 0f 85 rel32 (jne past the lookup), within 256 bytes before the LEA.
	var jumps []int
	for j := max(lea-256, 5); j+8 <= lea; j++ {
		if code[j-5] != 0xe8 || code[j] != 0x84 || code[j+1] != 0xc0 || code[j+2] != 0x0f || code[j+3] != 0x85 {
			continue
		}
		rel := int32(binary.LittleEndian.Uint32(code[j+4:]))
		if target := j + 8 + int(rel); target > lea {
			jumps = append(jumps, j+2)
		}
	}
	if len(jumps) != 1 {
		return fail("%d confidential-VM checks jump over the lookup, want 1", len(jumps))
	}
	jne := jumps[0]
	rel := int32(binary.LittleEndian.Uint32(code[jne+2:]))
	// jmp rel32 is one byte shorter than jne rel32: same target, then a nop.
	after := make([]byte, 6)
	after[0] = 0xe9
	binary.LittleEndian.PutUint32(after[1:], uint32(rel+1))
	after[5] = 0x90
	out := append([]byte(nil), stub...)
	off := int(text.Offset) + jne
	p = StubPatch{Offset: off, Before: fmt.Sprintf("% x", code[jne:jne+6]), After: fmt.Sprintf("% x", after),
		What: "sd-stub: the confidential-VM jump over the SMBIOS " + SMBIOSCmdlineName + " lookup made unconditional (jne -> jmp)"}
	copy(out[off:], after)
	return out, p, nil
}
