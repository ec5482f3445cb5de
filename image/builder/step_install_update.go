package builder

// What A/B updates add to the image, kept apart from the shared lists so
// the parts stay independent:
//
//   - appliance-update (image/cmd/appliance-update): verifies a bundle
//     against the operator key (update.OperatorKeyPath, installed by
//     installer.operatorKey) and hands the verified copy to sysupdate;
//   - image/update/systemd/*.transfer -> /usr/lib/sysupdate.d: root,
//     verity and UKI transfers (sysupdate.d(5) example 1);
//   - systemd-container: /usr/lib/systemd/systemd-sysupdate and the
//     systemd-import it runs to write (and gunzip) the payloads.
var (
	UpdateBinaries = []string{"appliance-update"}
	UpdateUnitDirs = []string{"image/update/systemd"}
	UpdatePackages = []string{"systemd-container"}
)

func init() {
	Binaries = append(Binaries, UpdateBinaries...)
	UnitDirs = append(UnitDirs, UpdateUnitDirs...)
}
