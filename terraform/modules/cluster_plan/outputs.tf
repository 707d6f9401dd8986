output "environment" {
  description = "The environment name (platform_environment)."
  value       = var.environment
}

output "network" {
  description = "The network the addresses come from: cidr, prefix_length, netmask, gateway, dns_servers, domain."
  value = {
    cidr          = var.network.cidr
    prefix_length = local.prefix_length
    netmask       = local.netmask
    gateway       = local.gateway
    dns_servers   = var.network.dns_servers
    domain        = var.network.domain
  }
}

output "host_names" {
  description = "Host names in input order."
  value       = local.host_names
}

output "hosts" {
  description = "Every host by name: index, address, cidr_address, fqdn, roles, groups, sizing (effective cpus, memory_mib, disk_gib, data_disks_gib) and the recommended sizing for its roles."
  value       = local.host

  precondition {
    condition     = length(local.unassignable_hosts) == 0
    error_message = "network.cidr ${var.network.cidr} has no address left for ${join(", ", local.unassignable_hosts)}: host numbers ${var.network.first_host_index}..${var.network.first_host_index + length(var.hosts) - 1} are needed but the last usable one is ${local.last_host_index}. Use a larger network, a lower network.first_host_index or explicit addresses."
  }
  precondition {
    condition     = length(local.duplicate_addresses) == 0
    error_message = "Two hosts would get the same address (${join(", ", local.duplicate_addresses)}): an explicit address collides with one assigned automatically. Change the explicit address or network.first_host_index."
  }
  precondition {
    condition     = length(local.reserved_conflicts) == 0
    error_message = "The address assigned to ${join(", ", local.reserved_conflicts)} is the gateway ${local.gateway}: raise network.first_host_index or set the gateway elsewhere."
  }
  precondition {
    condition     = length(local.port_collisions) == 0
    error_message = "Port collisions on shared hosts: ${join("; ", local.port_collisions)}. Move one of the roles to another host."
  }
}

output "groups" {
  description = "Inventory groups to host names: every platform group (empty when not deployed) and every extra group."
  value       = local.groups
}

output "firewall" {
  description = "The firewall matrix derived from the port data: ports (per port: port, protocol, tls, client, listening groups and hosts, from_groups, source addresses, client_cidrs) and rules (per host: the input rules the Ansible firewall role composes)."
  value = {
    ports_file = local.ports_file
    ports      = local.firewall_ports
    rules      = local.firewall_rules
  }

  precondition {
    condition     = length(local.port_errors) == 0
    error_message = "The port data in ${local.ports_file} is invalid: ${join("; ", local.port_errors)}."
  }
}

output "inventory_yaml" {
  description = "The Ansible inventory (hosts.yml) as YAML text."
  value       = local.inventory_yaml
}

output "group_vars_all_yaml" {
  description = "The Ansible variables Terraform owns (group_vars/all/terraform.yml) as YAML text."
  value       = local.group_vars_all_yaml
}

output "ansible_inventory" {
  description = "Hand-off to Ansible, read by scripts/tf-inventory: environment and files (path relative to inventories/<environment>/ => content)."
  value = {
    environment = var.environment
    files = {
      "hosts.yml"                    = local.inventory_yaml
      "group_vars/all/terraform.yml" = local.group_vars_all_yaml
    }
  }
}
