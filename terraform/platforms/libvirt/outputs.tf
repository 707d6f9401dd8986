# Outputs of this platform only; the common ones are in outputs_common.tf
# (a link to terraform/shared/platform_root/outputs.tf, the same in every root).

output "platform" {
  description = "The platform this root provisions on."
  value       = "libvirt"
}

output "vms" {
  description = "Per host: the libvirt domain (id, name, MAC address, data volumes)."
  value       = module.vms.domains
}
