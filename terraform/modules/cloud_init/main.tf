locals {
  # A stable, locally administered MAC per host (QEMU's 52:54:00 prefix), so that the network
  # configuration can match the interface whatever the guest calls it.
  mac_addresses = {
    for name, h in var.hosts : name => format("52:54:00:%s:%s:%s", substr(md5("${var.environment}/${name}"), 0, 2), substr(md5("${var.environment}/${name}"), 2, 2), substr(md5("${var.environment}/${name}"), 4, 2))
  }

  user_data = {
    for name, h in var.hosts : name => "#cloud-config\n${yamlencode({
      hostname         = h.name
      fqdn             = h.fqdn
      manage_etc_hosts = true
      ssh_pwauth       = false
      disable_root     = true
      users = [{
        name                = var.user
        groups              = ["sudo"]
        shell               = "/bin/bash"
        sudo                = "ALL=(ALL) NOPASSWD:ALL"
        lock_passwd         = true
        ssh_authorized_keys = var.authorized_keys
      }]
      packages = var.packages
      runcmd   = contains(var.packages, "qemu-guest-agent") ? [["systemctl", "enable", "--now", "qemu-guest-agent"]] : []
    })}"
  }

  meta_data = {
    for name, h in var.hosts : name => yamlencode({
      instance-id    = "${var.environment}-${h.name}"
      local-hostname = h.name
    })
  }

  network_config = {
    for name, h in var.hosts : name => yamlencode({
      version = 2
      ethernets = {
        primary = merge(
          {
            match     = { macaddress = local.mac_addresses[name] }
            set-name  = "eth0"
            addresses = ["${h.address}/${var.network.prefix_length}"]
            routes    = [{ to = "default", via = var.network.gateway }]
          },
          length(var.network.dns_servers) > 0 ? {
            nameservers = merge({ addresses = var.network.dns_servers }, var.network.domain == null ? {} : { search = [var.network.domain] })
          } : {},
        )
      }
    })
  }
}
