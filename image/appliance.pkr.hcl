# The default appliance: `make image` (bin/appliance build) and
# `packer build image/appliance.pkr.hcl` both read this file.
packer {
  required_plugins {
    supernode = {
      version = ">= 0.1.0"
      source  = "github.com/supernode-appliance/supernode"
    }
  }
}

source "supernode" "appliance" {
  # The project's inputs, found from this file (path.root is its folder), so
  # `cd image && packer build appliance.pkr.hcl` takes the same ones.
  bin_dir    = "${path.root}/../bin"
  source_dir = "${path.root}/.."

  output_dir = "out"
  image_name = "supernode-appliance"
  suite      = "trixie"
  # mirror = "http://<your mirror>/debian"   # default: the host's apt sources
  cache_dir      = "/var/cache/supernode-appliance"
  kernel_flavour = "hardened" # built from source (image/kernel); "cloud" or "generic" for Debian's kernels
  formats        = ["raw", "qcow2"]

  # /var is created on first boot by systemd-repart; stateless = true keeps
  # it on tmpfs instead.
  stateless = false
  var_size  = "512M"

  # DHCP on every Ethernet link unless static addresses are given:
  # static_addresses = ["192.0.2.10/24"]
  # gateway          = "192.0.2.1"
  # dns              = ["192.0.2.53"]

  # secure_boot_key  = "keys/db.key"
  # secure_boot_cert = "keys/db.crt"
  debug = false
}

build {
  sources = ["source.supernode.appliance"]
}
