# Outputs of this platform only; the common ones are in outputs_common.tf
# (a link to terraform/shared/platform_root/outputs.tf, the same in every root).

output "platform" {
  description = "The platform this root provisions on."
  value       = "existing"
}

output "inventory_applied" {
  description = "The hand-off as last applied (from the state); differs from ansible_inventory until the next apply."
  value       = terraform_data.inventory.output
}
