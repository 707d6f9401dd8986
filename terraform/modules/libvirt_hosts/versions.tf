terraform {
  required_version = ">= 1.9"

  required_providers {
    # The 0.9 line is a rewrite with a schema that mirrors libvirt XML; 0.8 configurations do
    # not work with it. Roots pin the exact version.
    libvirt = {
      source  = "dmacvicar/libvirt"
      version = "~> 0.9"
    }
  }
}
