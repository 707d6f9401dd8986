# Outputs of this platform only; the common ones are in outputs_common.tf
# (a link to terraform/shared/platform_root/outputs.tf, the same in every root).

output "platform" {
  description = "The platform this root provisions on."
  value       = "proxmox"
}

output "vms" {
  description = "Per host: the Proxmox VM (vm_id, name, node_name)."
  value       = module.vms.vms
}
