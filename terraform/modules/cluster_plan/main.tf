# -------------------------------------------------------------------------------------------------
# Shared data: the same files Ansible reads
# -------------------------------------------------------------------------------------------------

locals {
  ports_file    = coalesce(var.ports_file, "${path.module}/../../../roles/platform/defaults/main/ports.yml")
  platform_file = coalesce(var.platform_file, "${path.module}/../../../roles/platform/defaults/main/platform.yml")

  ports           = yamldecode(file(local.ports_file)).platform_ports
  platform_groups = yamldecode(file(local.platform_file)).platform_groups

  # Starting sizes per role, used where a host gives no sizing hint. A host with several roles
  # gets the largest CPU and disk figure and the sum of the memory figures (every service has
  # its own heap).
  recommended = {
    minio             = { cpus = 2, memory_mib = 4096, disk_gib = 20 }
    metastore_db      = { cpus = 2, memory_mib = 2048, disk_gib = 40 }
    hive_metastore    = { cpus = 2, memory_mib = 4096, disk_gib = 20 }
    trino_coordinator = { cpus = 4, memory_mib = 8192, disk_gib = 40 }
    trino_worker      = { cpus = 4, memory_mib = 16384, disk_gib = 40 }
    kafka_controller  = { cpus = 2, memory_mib = 2048, disk_gib = 20 }
    kafka_broker      = { cpus = 4, memory_mib = 8192, disk_gib = 100 }
    flink_jobmanager  = { cpus = 2, memory_mib = 4096, disk_gib = 20 }
    flink_taskmanager = { cpus = 4, memory_mib = 8192, disk_gib = 40 }
    zookeeper         = { cpus = 1, memory_mib = 2048, disk_gib = 20 }
    prometheus        = { cpus = 2, memory_mib = 4096, disk_gib = 100 }
    alertmanager      = { cpus = 1, memory_mib = 1024, disk_gib = 10 }
    grafana           = { cpus = 1, memory_mib = 1024, disk_gib = 10 }
  }
  recommended_fallback = { cpus = 2, memory_mib = 2048, disk_gib = 20 }
}

# -------------------------------------------------------------------------------------------------
# Network and addresses
# -------------------------------------------------------------------------------------------------

locals {
  prefix_length     = try(tonumber(split("/", var.network.cidr)[1]), 32)
  network_address   = try(cidrhost(var.network.cidr, 0), "")
  broadcast_address = try(cidrhost(var.network.cidr, -1), "")
  gateway           = coalesce(var.network.gateway, try(cidrhost(var.network.cidr, 1), ""))
  netmask           = try(cidrnetmask(var.network.cidr), "")
  # Usable host numbers are 1 .. 2^(32-prefix)-2.
  last_host_index = pow(2, 32 - local.prefix_length) - 2

  host_names = [for h in var.hosts : h.name]

  # A host without an address gets the host number first_host_index + its list index: adding a
  # host at the end never moves the others. An empty string marks a number outside the network
  # (reported by the precondition on output "hosts").
  addresses = [
    for i, h in var.hosts : h.address != null ? h.address : (
      var.network.first_host_index + i <= local.last_host_index ? try(cidrhost(var.network.cidr, var.network.first_host_index + i), "") : ""
    )
  ]

  duplicate_addresses = distinct([for a in local.addresses : a if a != "" && length([for o in local.addresses : o if o == a]) > 1])
  unassignable_hosts  = [for i, h in var.hosts : h.name if local.addresses[i] == ""]
  # Addresses handed out automatically must not be the gateway or an explicit address of another host.
  reserved_conflicts = [for i, h in var.hosts : h.name if h.address == null && local.addresses[i] == local.gateway]
}

# -------------------------------------------------------------------------------------------------
# Groups and sizing
# -------------------------------------------------------------------------------------------------

locals {
  # Every platform group, empty when the component is not deployed.
  role_hosts   = { for g in local.platform_groups : g => [for h in var.hosts : h.name if contains(h.roles, g)] }
  extra_groups = sort(distinct(flatten([for h in var.hosts : h.extra_groups])))
  groups = merge(
    local.role_hosts,
    { for g in local.extra_groups : g => [for h in var.hosts : h.name if contains(h.extra_groups, g)] },
  )
  # Group membership as the port data uses it: "all" is every platform host.
  members = merge(local.groups, { all = local.host_names })

  hosts = {
    for i, h in var.hosts : h.name => {
      name         = h.name
      index        = i
      address      = local.addresses[i]
      cidr_address = "${local.addresses[i]}/${local.prefix_length}"
      fqdn         = var.network.domain == null ? h.name : "${h.name}.${var.network.domain}"
      roles        = h.roles
      groups       = concat(h.roles, h.extra_groups)
      sizing = {
        cpus           = coalesce(h.cpus, max(concat([1], [for r in h.roles : lookup(local.recommended, r, local.recommended_fallback).cpus])...))
        memory_mib     = coalesce(h.memory_mib, sum(concat([0], [for r in h.roles : lookup(local.recommended, r, local.recommended_fallback).memory_mib])))
        disk_gib       = coalesce(h.disk_gib, max(concat([10], [for r in h.roles : lookup(local.recommended, r, local.recommended_fallback).disk_gib])...))
        data_disks_gib = h.data_disks_gib
      }
      recommended = {
        cpus       = max(concat([1], [for r in h.roles : lookup(local.recommended, r, local.recommended_fallback).cpus])...)
        memory_mib = sum(concat([0], [for r in h.roles : lookup(local.recommended, r, local.recommended_fallback).memory_mib]))
        disk_gib   = max(concat([10], [for r in h.roles : lookup(local.recommended, r, local.recommended_fallback).disk_gib])...)
      }
    }...
  }
  # The grouping "..." above keeps duplicate names from failing here; the hosts variable rejects them.
  host = { for name, entries in local.hosts : name => entries[0] }

  undersized_hosts = [
    for name in local.host_names : name
    if local.host[name].sizing.cpus < local.host[name].recommended.cpus
    || local.host[name].sizing.memory_mib < local.host[name].recommended.memory_mib
    || local.host[name].sizing.disk_gib < local.host[name].recommended.disk_gib
  ]
}

# -------------------------------------------------------------------------------------------------
# Firewall matrix, derived from the port data
# -------------------------------------------------------------------------------------------------

locals {
  port_fields = ["port", "protocol", "groups", "from_groups", "client", "tls", "description"]
  port_errors = flatten([
    for name, e in local.ports : concat(
      [for f in local.port_fields : "${name}: missing '${f}'" if !can(e[f])],
      try(e.port >= 1 && e.port <= 65535 && floor(e.port) == e.port, false) ? [] : ["${name}: port must be 1..65535"],
      contains(["tcp", "udp"], try(e.protocol, "")) ? [] : ["${name}: protocol must be tcp or udp"],
      [for g in try(concat(e.groups, e.from_groups), []) : "${name}: unknown group '${g}'" if !contains(concat(local.platform_groups, ["all"]), g)],
    )
  ])

  # One entry per port: who listens, who may connect (member addresses of from_groups, in host
  # order) and whether client networks (client, or the port's own endpoint_cidrs) or the
  # administrators' networks (admin) may connect too.
  firewall_ports = {
    for name, e in local.ports : name => {
      port        = try(e.port, 0)
      protocol    = try(e.protocol, "tcp")
      tls         = try(e.tls, true)
      client      = try(e.client, false)
      description = try(e.description, "")
      groups      = try(e.groups, [])
      from_groups = try(e.from_groups, [])
      hosts       = [for h in local.host_names : h if anytrue([for g in try(e.groups, []) : contains(lookup(local.members, g, []), h)])]
      sources = [
        for h in local.host_names : "${local.host[h].address}/32"
        if anytrue([for g in try(e.from_groups, []) : contains(lookup(local.members, g, []), h)])
      ]
      client_cidrs = concat(
        contains(keys(var.endpoint_cidrs), name) ? var.endpoint_cidrs[name] : (try(e.client, false) ? var.client_cidrs : []),
        try(e.admin, false) ? var.admin_cidrs : [],
      )
    }
  }

  # Each host's input rules, as the firewall role composes them: one per port the host listens
  # on that anybody may reach, sources = peer addresses + client networks.
  firewall_rules = {
    for h in local.host_names : h => [
      for name, p in local.firewall_ports : {
        name     = name
        port     = p.port
        protocol = p.protocol
        sources  = concat(p.sources, p.client_cidrs)
      } if contains(p.hosts, h) && length(p.sources) + length(p.client_cidrs) > 0
    ]
  }

  # Two services on one host on the same port and protocol cannot both listen.
  port_collisions = flatten([
    for h in local.host_names : [
      for key, names in { for name, p in local.firewall_ports : "${p.protocol}/${p.port}" => name... if contains(p.hosts, h) } :
      "host '${h}': ${join(" and ", names)} would all listen on ${key}" if length(names) > 1
    ]
  ])
}

# -------------------------------------------------------------------------------------------------
# Ansible inventory
# -------------------------------------------------------------------------------------------------

locals {
  inventory_yaml = templatefile("${path.module}/templates/hosts.yml.tftpl", {
    environment = var.environment
    hosts       = [for name in local.host_names : local.host[name]]
    groups      = [for g in concat(local.platform_groups, local.extra_groups) : { name = g, hosts = local.groups[g] }]
    ssh         = var.ssh
  })

  group_vars_all_yaml = templatefile("${path.module}/templates/group_vars_all.yml.tftpl", {
    environment    = var.environment
    admin_cidrs    = var.admin_cidrs
    client_cidrs   = var.client_cidrs
    endpoint_cidrs = var.endpoint_cidrs
    extra_groups   = local.extra_groups
  })
}
