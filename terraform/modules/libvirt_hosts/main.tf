locals {
  gib = 1073741824
  # One volume per data drive: "<host>-data<i>".
  data_disks = merge([
    for name, h in var.hosts : {
      for i, size in h.sizing.data_disks_gib : "${name}-data${i}" => { host = name, index = i, size_gib = size }
    }
  ]...)
  # vda is the root disk, data drives follow from vdb.
  disk_letters = "bcdefghijklmnopqrstuvwxyz"
}

resource "libvirt_volume" "base" {
  name   = "${var.name_prefix}base.qcow2"
  pool   = var.pool
  target = { format = { type = "qcow2" } }
  create = { content = { url = var.base_image } }
}

resource "libvirt_volume" "root" {
  for_each = var.hosts

  name     = "${var.name_prefix}${each.key}-root.qcow2"
  pool     = var.pool
  capacity = each.value.sizing.disk_gib * local.gib
  target   = { format = { type = "qcow2" } }
  backing_store = {
    path   = libvirt_volume.base.path
    format = { type = "qcow2" }
  }
}

resource "libvirt_volume" "data" {
  for_each = local.data_disks

  name     = "${var.name_prefix}${each.key}.qcow2"
  pool     = var.pool
  capacity = each.value.size_gib * local.gib
  target   = { format = { type = "qcow2" } }
}

resource "libvirt_cloudinit_disk" "this" {
  for_each = var.hosts

  name           = "${var.name_prefix}${each.key}-cloudinit"
  user_data      = var.cloud_init[each.key].user_data
  meta_data      = var.cloud_init[each.key].meta_data
  network_config = var.cloud_init[each.key].network_config
}

resource "libvirt_volume" "cloudinit" {
  for_each = var.hosts

  name   = "${var.name_prefix}${each.key}-cloudinit.iso"
  pool   = var.pool
  create = { content = { url = libvirt_cloudinit_disk.this[each.key].path } }
}

resource "libvirt_domain" "this" {
  for_each = var.hosts

  name        = "${var.name_prefix}${each.key}"
  description = "FOSS Data Platform host ${each.key} (managed by Terraform)"
  type        = "kvm"
  vcpu        = each.value.sizing.cpus
  memory      = each.value.sizing.memory_mib
  memory_unit = "MiB"
  autostart   = var.autostart
  running     = true

  os = {
    type         = "hvm"
    type_arch    = "x86_64"
    type_machine = "q35"
  }

  devices = {
    disks = concat(
      [{
        source = { volume = { pool = libvirt_volume.root[each.key].pool, volume = libvirt_volume.root[each.key].name } }
        target = { bus = "virtio", dev = "vda" }
        driver = { type = "qcow2" }
      }],
      [
        for i, size in each.value.sizing.data_disks_gib : {
          source = { volume = { pool = libvirt_volume.data["${each.key}-data${i}"].pool, volume = libvirt_volume.data["${each.key}-data${i}"].name } }
          target = { bus = "virtio", dev = "vd${substr(local.disk_letters, i, 1)}" }
          driver = { type = "qcow2" }
        }
      ],
      [{
        device = "cdrom"
        source = { volume = { pool = libvirt_volume.cloudinit[each.key].pool, volume = libvirt_volume.cloudinit[each.key].name } }
        target = { bus = "sata", dev = "sda" }
      }],
    )

    # The source decides the interface type (network or bridge); 0.9 has no separate type.
    interfaces = [{
      mac   = { address = var.cloud_init[each.key].mac_address }
      model = { type = "virtio" }
      source = {
        network = var.bridge == null ? { network = var.network_name } : null
        bridge  = var.bridge == null ? null : { bridge = var.bridge }
      }
    }]
  }
}
