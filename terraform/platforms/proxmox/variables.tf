# Variables of this platform only; the common ones are in variables_common.tf
# (a link to terraform/shared/platform_root/variables.tf, the same in every root).

# -------------------------------------------------------------------------------------------------
# Proxmox VE (credentials come from the environment: PROXMOX_VE_API_TOKEN, or
# PROXMOX_VE_USERNAME and PROXMOX_VE_PASSWORD; never put them in tfvars)
# -------------------------------------------------------------------------------------------------

variable "proxmox_endpoint" {
  description = "Proxmox VE API endpoint, e.g. https://pve1.example.net:8006/."
  type        = string
}

variable "proxmox_insecure" {
  description = "Skip TLS verification of the API endpoint (only for a self-signed PVE certificate you cannot replace)."
  type        = bool
  default     = false
}

variable "proxmox_node" {
  description = "Proxmox VE node the VMs are created on."
  type        = string
}

variable "proxmox_template_vm_id" {
  description = "VM id of the cloud-init enabled Debian 12/13 template to clone (QEMU guest agent installed)."
  type        = number
}

variable "proxmox_vm_id_base" {
  description = "VM ids are this + host index; null = Proxmox picks free ids."
  type        = number
  default     = null
}

variable "proxmox_datastore" {
  description = "Datastore for root disks and cloud-init drives."
  type        = string
  default     = "local-lvm"
}

variable "proxmox_data_datastore" {
  description = "Datastore for data drives (MinIO drives); null = proxmox_datastore."
  type        = string
  default     = null
}

variable "proxmox_bridge" {
  description = "Bridge the VMs attach to."
  type        = string
  default     = "vmbr0"
}

variable "proxmox_vlan_id" {
  description = "VLAN tag of the VMs' interface; null = untagged."
  type        = number
  default     = null
}
