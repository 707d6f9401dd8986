terraform {
  required_version = ">= 1.9"

  required_providers {
    # bpg/proxmox, not Telmate/proxmox (long in release candidates, broken on PVE 8). Roots pin
    # the exact version.
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.111"
    }
  }
}
