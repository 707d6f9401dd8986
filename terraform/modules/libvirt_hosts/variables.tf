variable "name_prefix" {
  description = "Prefix of every domain and volume name (e.g. \"prod-\"), so that several environments share one libvirt host."
  type        = string
}

variable "hosts" {
  description = "The hosts output of modules/cluster_plan: name => {name, index, sizing = {cpus, memory_mib, disk_gib, data_disks_gib}}."
  type = map(object({
    name  = string
    index = number
    sizing = object({
      cpus           = number
      memory_mib     = number
      disk_gib       = number
      data_disks_gib = list(number)
    })
  }))
}

variable "cloud_init" {
  description = "The hosts output of modules/cloud_init: name => {mac_address, user_data, meta_data, network_config}."
  type = map(object({
    mac_address    = string
    user_data      = string
    meta_data      = string
    network_config = string
  }))
}

variable "base_image" {
  description = "URL or local path of the Debian cloud image (qcow2, e.g. debian-12-genericcloud-amd64.qcow2) every root disk is a copy-on-write layer of."
  type        = string
}

variable "pool" {
  description = "libvirt storage pool for all volumes."
  type        = string
  default     = "default"
}

variable "network_name" {
  description = "libvirt network the VMs attach to (used when bridge is null). Its addressing must match the plan's network.cidr; DHCP is not used."
  type        = string
  default     = "default"
}

variable "bridge" {
  description = "Host bridge the VMs attach to instead of a libvirt network (e.g. br0); null = use network_name."
  type        = string
  default     = null
}

variable "autostart" {
  description = "Start the VMs when the libvirt host boots."
  type        = bool
  default     = true
}
