output "domains" {
  description = "Per host: the libvirt domain id and name, its MAC address and its data volume names."
  value = {
    for name, d in libvirt_domain.this : name => {
      id           = d.id
      name         = d.name
      mac_address  = var.cloud_init[name].mac_address
      data_volumes = [for i, _ in var.hosts[name].sizing.data_disks_gib : libvirt_volume.data["${name}-data${i}"].name]
    }
  }
}
