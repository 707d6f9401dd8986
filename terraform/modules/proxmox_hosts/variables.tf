variable "name_prefix" {
  description = "Prefix of every VM name (e.g. \"prod-\"); VM names must be valid DNS names."
  type        = string
}

variable "environment" {
  description = "Environment name, set as a VM tag."
  type        = string
}

variable "hosts" {
  description = "The hosts output of modules/cluster_plan: name => {name, index, roles, cidr_address, sizing = {cpus, memory_mib, disk_gib, data_disks_gib}}."
  type = map(object({
    name         = string
    index        = number
    roles        = list(string)
    cidr_address = string
    sizing = object({
      cpus           = number
      memory_mib     = number
      disk_gib       = number
      data_disks_gib = list(number)
    })
  }))
}

variable "network" {
  description = "The network output of modules/cluster_plan (gateway, dns_servers, domain)."
  type = object({
    gateway     = string
    dns_servers = list(string)
    domain      = optional(string)
  })
}

variable "user" {
  description = "User that Proxmox cloud-init creates, with the SSH keys below; Ansible connects as this user."
  type        = string
  nullable    = false
}

variable "authorized_keys" {
  description = "SSH public keys installed for user."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.authorized_keys) > 0
    error_message = "authorized_keys must list at least one SSH public key; without one nobody could log in."
  }
}

variable "node_name" {
  description = "Proxmox VE node the VMs are created on."
  type        = string
}

variable "template_vm_id" {
  description = "VM id of the cloud-init enabled Debian template to clone (with the QEMU guest agent installed)."
  type        = number
}

variable "template_node_name" {
  description = "Node that holds the template; null = node_name."
  type        = string
  default     = null
}

variable "vm_id_base" {
  description = "VM ids are vm_id_base + host index; null = let Proxmox choose the next free id."
  type        = number
  default     = null
}

variable "datastore_id" {
  description = "Datastore for root disks and cloud-init drives."
  type        = string
  default     = "local-lvm"
}

variable "data_datastore_id" {
  description = "Datastore for data drives (e.g. MinIO drives); null = datastore_id."
  type        = string
  default     = null
}

variable "bridge" {
  description = "Proxmox bridge the VMs attach to."
  type        = string
  default     = "vmbr0"
}

variable "vlan_id" {
  description = "VLAN tag of the VMs' interface; null = untagged."
  type        = number
  default     = null
}
