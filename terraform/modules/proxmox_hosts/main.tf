resource "proxmox_virtual_environment_vm" "this" {
  for_each = var.hosts

  name        = "${var.name_prefix}${each.key}"
  description = "FOSS Data Platform host ${each.key} (managed by Terraform)"
  node_name   = var.node_name
  vm_id       = var.vm_id_base == null ? null : var.vm_id_base + each.value.index
  tags        = sort(distinct(concat(["fdp", var.environment], [for r in each.value.roles : replace(r, "_", "-")])))
  on_boot     = true
  started     = true

  clone {
    vm_id        = var.template_vm_id
    node_name    = var.template_node_name
    datastore_id = var.datastore_id
    full         = true
  }

  agent {
    enabled = true
  }

  operating_system {
    type = "l26"
  }

  cpu {
    cores = each.value.sizing.cpus
    type  = "host"
  }

  memory {
    dedicated = each.value.sizing.memory_mib
  }

  scsi_hardware = "virtio-scsi-single"

  disk {
    datastore_id = var.datastore_id
    interface    = "scsi0"
    size         = each.value.sizing.disk_gib
    iothread     = true
    discard      = "on"
  }

  dynamic "disk" {
    for_each = each.value.sizing.data_disks_gib
    content {
      datastore_id = coalesce(var.data_datastore_id, var.datastore_id)
      interface    = "scsi${disk.key + 1}"
      size         = disk.value
      file_format  = "raw"
      iothread     = true
      discard      = "on"
    }
  }

  network_device {
    bridge  = var.bridge
    vlan_id = var.vlan_id
    model   = "virtio"
  }

  initialization {
    datastore_id = var.datastore_id

    ip_config {
      ipv4 {
        address = each.value.cidr_address
        gateway = var.network.gateway
      }
    }

    dynamic "dns" {
      for_each = length(var.network.dns_servers) > 0 ? [var.network] : []
      content {
        servers = dns.value.dns_servers
        domain  = dns.value.domain
      }
    }

    user_account {
      username = var.user
      keys     = var.authorized_keys
    }
  }
}
