# -------------------------------------------------------------------------------------------------
# Common outputs: identical in every platform root; scripts/tf-inventory reads ansible_inventory.
# -------------------------------------------------------------------------------------------------

output "environment" {
  description = "The environment name (platform_environment)."
  value       = module.plan.environment
}

output "hosts" {
  description = "Every host by name: address, fqdn, roles, groups and effective sizing."
  value       = module.plan.hosts
}

output "groups" {
  description = "Inventory groups to host names."
  value       = module.plan.groups
}

output "firewall" {
  description = "The firewall matrix derived from the shared port data (per port and per host)."
  value       = module.plan.firewall
}

output "inventory_yaml" {
  description = "The Ansible inventory (hosts.yml) as YAML text."
  value       = module.plan.inventory_yaml
}

output "ansible_inventory" {
  description = "Hand-off to Ansible: environment and files (path under inventories/<environment>/ => content)."
  value       = module.plan.ansible_inventory
}
