output "hosts" {
  description = "Per host: mac_address (for the VM's interface), user_data, meta_data and network_config (cloud-init NoCloud documents)."
  value = {
    for name, h in var.hosts : name => {
      mac_address    = local.mac_addresses[name]
      user_data      = local.user_data[name]
      meta_data      = local.meta_data[name]
      network_config = local.network_config[name]
    }
  }
}
