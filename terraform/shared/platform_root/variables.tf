# -------------------------------------------------------------------------------------------------
# Common inputs: identical in every platform root (terraform/platforms/*), validated by
# modules/cluster_plan. Every root links this one file.
# -------------------------------------------------------------------------------------------------

variable "environment" {
  description = "Short lower-case name of the environment (platform_environment); the inventory is written to inventories/<environment>/."
  type        = string
}

variable "hosts" {
  description = "The platform hosts: name, roles (platform inventory groups), optional static address, sizing hints (cpus, memory_mib, disk_gib), data_disks_gib and extra_groups. See modules/cluster_plan for the rules."
  type = list(object({
    name           = string
    roles          = list(string)
    address        = optional(string)
    cpus           = optional(number)
    memory_mib     = optional(number)
    disk_gib       = optional(number)
    data_disks_gib = optional(list(number), [])
    extra_groups   = optional(list(string), [])
  }))
}

variable "network" {
  description = "The hosts' IPv4 network: cidr, optional gateway (default: first address), first_host_index (default 10), dns_servers and domain."
  type = object({
    cidr             = string
    gateway          = optional(string)
    first_host_index = optional(number, 10)
    dns_servers      = optional(list(string), [])
    domain           = optional(string)
  })
}

variable "admin_cidrs" {
  description = "Networks (CIDR) from which administrators and the Ansible controller use SSH (platform_admin_cidrs)."
  type        = list(string)
}

variable "client_cidrs" {
  description = "Networks (CIDR) of the platform's users; client ports of the port data are open to them (platform_client_cidrs)."
  type        = list(string)
  default     = []
}

variable "endpoint_cidrs" {
  description = "One endpoint's own user networks: port name -> networks (CIDR), replacing client_cidrs for that port (platform_endpoint_cidrs)."
  type        = map(list(string))
  default     = {}
}

variable "ssh" {
  description = "SSH for Ansible and for the VMs: user, port, private_key_file (on the controller) and authorized_keys (installed for user on created VMs)."
  type = object({
    user             = optional(string)
    port             = optional(number, 22)
    private_key_file = optional(string)
    authorized_keys  = optional(list(string), [])
  })
  default = {}
}

variable "ports_file" {
  description = "Path of the port data shared with the Ansible firewall; null = roles/platform/defaults/main/ports.yml of this repository."
  type        = string
  default     = null
}

variable "platform_file" {
  description = "Path of the platform wiring defining platform_groups; null = roles/platform/defaults/main/platform.yml of this repository."
  type        = string
  default     = null
}
