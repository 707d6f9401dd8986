# Variables of this platform only; the common ones are in variables_common.tf
# (a link to terraform/shared/platform_root/variables.tf, the same in every root).

# -------------------------------------------------------------------------------------------------
# libvirt
# -------------------------------------------------------------------------------------------------

variable "libvirt_uri" {
  description = "libvirt connection URI, e.g. qemu:///system or qemu+ssh://root@kvm1.example.net/system."
  type        = string
  default     = "qemu:///system"
}

variable "base_image" {
  description = "URL or path (on the libvirt host) of the Debian 12 or 13 genericcloud qcow2 image the VMs boot from."
  type        = string
}

variable "libvirt_pool" {
  description = "libvirt storage pool for the VM volumes."
  type        = string
  default     = "default"
}

variable "libvirt_network" {
  description = "libvirt network the VMs attach to when libvirt_bridge is null; its subnet must be network.cidr."
  type        = string
  default     = "default"
}

variable "libvirt_bridge" {
  description = "Host bridge to attach the VMs to instead of a libvirt network (e.g. br0); null = use libvirt_network."
  type        = string
  default     = null
}
