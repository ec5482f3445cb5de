package builder

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ovfTemplate is a minimal OVF 1.0 descriptor: one VM, 2 vCPUs, 1 GiB,
// UEFI firmware, one streamOptimized disk on a SCSI controller, one NIC.
const ovfTemplate = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="%[1]s.vmdk" ovf:id="file1" ovf:size="%[2]d"/></References>
  <DiskSection><Info>Virtual disks</Info>
    <Disk ovf:capacity="%[3]d" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection><Info>Networks</Info><Network ovf:name="uplink"><Description>Supernode uplink</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="%[1]s">
    <Info>Supernode appliance</Info>
    <Name>%[1]s</Name>
    <OperatingSystemSection ovf:id="96"><Info>Debian 64-bit</Info></OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType></System>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>2 vCPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>1024 MB</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>SCSI controller</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>disk0</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>uplink</rasd:Connection><rasd:ElementName>nic0</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`

// makeOVA writes an OVA: a tar of the OVF descriptor (first, as the format
// requires), the streamOptimized VMDK and a SHA256 manifest.
func (s *State) makeOVA(ctx context.Context, out string) error {
	name := s.Config.ImageName
	vmdk := filepath.Join(s.Work, name+".vmdk")
	if _, err := run(ctx, nil, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", s.RawImage, vmdk); err != nil {
		return fmt.Errorf("converting to vmdk for the OVA: %w", err)
	}
	ovf := []byte(fmt.Sprintf(ovfTemplate, name, fileSize(vmdk), fileSize(s.RawImage)))
	vmdkSum, err := sha256File(vmdk)
	if err != nil {
		return err
	}
	ovfSum := sha256.Sum256(ovf)
	mf := []byte(fmt.Sprintf("SHA256(%s.ovf)= %s\nSHA256(%s.vmdk)= %s\n", name, hex.EncodeToString(ovfSum[:]), name, vmdkSum))

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	mtime := time.Unix(s.Epoch, 0)
	add := func(n string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: size, ModTime: mtime, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := add(name+".ovf", int64(len(ovf)), bytesReader(ovf)); err != nil {
		return err
	}
	in, err := os.Open(vmdk)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := add(name+".vmdk", fileSize(vmdk), in); err != nil {
		return err
	}
	if err := add(name+".mf", int64(len(mf)), bytesReader(mf)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
