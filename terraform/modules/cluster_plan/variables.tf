# -------------------------------------------------------------------------------------------------
# Environment and hosts
# -------------------------------------------------------------------------------------------------

variable "environment" {
  description = "Short lower-case name of the environment (platform_environment). Names inventories/<environment>/, its PKI and credentials, and prefixes VM names on the platforms that create VMs."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.environment))
    error_message = "environment must be a short lower-case name (a letter, then letters, digits or '-', at most 63 characters), got \"${var.environment}\"."
  }
}

variable "hosts" {
  description = <<-EOT
    The platform hosts. Each: name (host name, lower-case DNS label, unique), roles (platform
    inventory groups, see platform_groups), address (optional static IPv4 inside network.cidr;
    hosts without one get cidrhost(network.cidr, network.first_host_index + list index), so
    append new hosts at the end), sizing hints cpus, memory_mib, disk_gib (optional; default: the
    recommendation for the host's roles), data_disks_gib (sizes of extra data drives in GiB;
    MinIO hosts need at least one) and extra_groups (site groups such as racks).
  EOT
  type = list(object({
    name           = string
    roles          = list(string)
    address        = optional(string)
    cpus           = optional(number)
    memory_mib     = optional(number)
    disk_gib       = optional(number)
    data_disks_gib = optional(list(number), [])
    extra_groups   = optional(list(string), [])
  }))

  # --- names ---------------------------------------------------------------------------------
  validation {
    condition     = length(var.hosts) > 0
    error_message = "hosts must list at least one host."
  }
  validation {
    condition     = alltrue([for h in var.hosts : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", h.name))])
    error_message = "Host names must be lower-case DNS labels (letters, digits, '-', at most 63 characters); invalid: ${join(", ", [for h in var.hosts : h.name if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", h.name))])}."
  }
  validation {
    condition     = length(distinct([for h in var.hosts : h.name])) == length(var.hosts)
    error_message = "Host names must be unique; duplicated: ${join(", ", distinct([for h in var.hosts : h.name if length([for o in var.hosts : o if o.name == h.name]) > 1]))}."
  }

  # --- roles and groups ----------------------------------------------------------------------
  validation {
    condition     = alltrue([for h in var.hosts : length(h.roles) > 0 && length(distinct(h.roles)) == length(h.roles)])
    error_message = "Every host needs at least one role, each listed once; check: ${join(", ", [for h in var.hosts : h.name if length(h.roles) == 0 || length(distinct(h.roles)) != length(h.roles)])}."
  }
  validation {
    condition     = alltrue(flatten([for h in var.hosts : [for r in h.roles : contains(local.platform_groups, r)]]))
    error_message = "Unknown role(s): ${join(", ", distinct(flatten([for h in var.hosts : [for r in h.roles : "${h.name}: ${r}" if !contains(local.platform_groups, r)]])))}. Roles are the platform inventory groups: ${join(", ", local.platform_groups)}."
  }
  validation {
    condition = alltrue(flatten([for h in var.hosts : [
      for g in h.extra_groups : can(regex("^[a-z][a-z0-9_]{0,62}$", g)) && !contains(concat(local.platform_groups, ["all", "ungrouped"]), g)
    ]]))
    error_message = "extra_groups must be lower-case Ansible group names (letters, digits, '_') that are not platform groups, 'all' or 'ungrouped'; invalid: ${join(", ", distinct(flatten([for h in var.hosts : [for g in h.extra_groups : "${h.name}: ${g}" if !can(regex("^[a-z][a-z0-9_]{0,62}$", g)) || contains(concat(local.platform_groups, ["all", "ungrouped"]), g)]])))}."
  }

  # --- addresses -----------------------------------------------------------------------------
  validation {
    condition     = alltrue([for h in var.hosts : h.address == null || can(regex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$", h.address))])
    error_message = "address must be an IPv4 address such as 192.0.2.11; invalid: ${join(", ", [for h in var.hosts : "${h.name}: ${h.address}" if h.address != null && !can(regex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$", h.address))])}."
  }
  validation {
    condition     = length(distinct(compact([for h in var.hosts : h.address]))) == length(compact([for h in var.hosts : h.address]))
    error_message = "Host addresses must be unique; used more than once: ${join(", ", distinct([for h in var.hosts : h.address if h.address != null && length([for o in var.hosts : o if o.address == h.address]) > 1]))}."
  }
  validation {
    condition = alltrue([for h in var.hosts : h.address == null || try(
      cidrhost("${h.address}/${local.prefix_length}", 0) == local.network_address
      && !contains([local.network_address, local.broadcast_address, local.gateway], h.address),
    false)])
    error_message = "Static addresses must be usable host addresses inside network.cidr (${var.network.cidr}), not its network, broadcast or gateway address; wrong: ${join(", ", [for h in var.hosts : "${h.name}: ${h.address}" if h.address != null && !try(cidrhost("${h.address}/${local.prefix_length}", 0) == local.network_address && !contains([local.network_address, local.broadcast_address, local.gateway], h.address), false)])}."
  }

  # --- sizing hints --------------------------------------------------------------------------
  validation {
    condition = alltrue([for h in var.hosts : alltrue([
      h.cpus == null || try(h.cpus >= 1 && floor(h.cpus) == h.cpus, false),
      h.memory_mib == null || try(h.memory_mib >= 1024 && floor(h.memory_mib) == h.memory_mib, false),
      h.disk_gib == null || try(h.disk_gib >= 10 && floor(h.disk_gib) == h.disk_gib, false),
      alltrue([for d in h.data_disks_gib : d >= 1 && floor(d) == d]),
    ])])
    error_message = "Sizing hints must be whole numbers: cpus >= 1, memory_mib >= 1024, disk_gib >= 10, data_disks_gib entries >= 1; check: ${join(", ", [for h in var.hosts : h.name if !alltrue([h.cpus == null || try(h.cpus >= 1 && floor(h.cpus) == h.cpus, false), h.memory_mib == null || try(h.memory_mib >= 1024 && floor(h.memory_mib) == h.memory_mib, false), h.disk_gib == null || try(h.disk_gib >= 10 && floor(h.disk_gib) == h.disk_gib, false), alltrue([for d in h.data_disks_gib : d >= 1 && floor(d) == d])])])}."
  }

  # --- topology ------------------------------------------------------------------------------
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "trino_coordinator")]) <= 1 && (length([for x in var.hosts : x if contains(x.roles, "trino_worker")]) == 0 || length([for x in var.hosts : x if contains(x.roles, "trino_coordinator")]) == 1)
    error_message = "Trino needs exactly one coordinator when it is deployed: trino_coordinator has ${length([for x in var.hosts : x if contains(x.roles, "trino_coordinator")])} host(s) (${join(", ", [for x in var.hosts : x.name if contains(x.roles, "trino_coordinator")])}) and trino_worker ${length([for x in var.hosts : x if contains(x.roles, "trino_worker")])}."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "kafka_controller")]) % 2 == 1 || length([for x in var.hosts : x if contains(x.roles, "kafka_controller")]) == 0
    error_message = "Kafka KRaft needs an odd number of controllers (1, 3, 5) for a majority quorum; kafka_controller has ${length([for x in var.hosts : x if contains(x.roles, "kafka_controller")])}: ${join(", ", [for x in var.hosts : x.name if contains(x.roles, "kafka_controller")])}."
  }
  validation {
    condition     = (length([for x in var.hosts : x if contains(x.roles, "kafka_controller")]) == 0) == (length([for x in var.hosts : x if contains(x.roles, "kafka_broker")]) == 0)
    error_message = "Kafka needs both kafka_controller and kafka_broker hosts (KRaft controllers without brokers, or brokers without controllers, cannot run): ${length([for x in var.hosts : x if contains(x.roles, "kafka_controller")])} controller(s), ${length([for x in var.hosts : x if contains(x.roles, "kafka_broker")])} broker(s)."
  }
  validation {
    condition     = alltrue([for h in var.hosts : length(h.data_disks_gib) > 0 if contains(h.roles, "minio")])
    error_message = "Every MinIO host needs at least one data drive (data_disks_gib); without: ${join(", ", [for h in var.hosts : h.name if contains(h.roles, "minio") && length(h.data_disks_gib) == 0])}."
  }
  validation {
    condition     = length(distinct([for h in var.hosts : length(h.data_disks_gib) if contains(h.roles, "minio")])) <= 1
    error_message = "All MinIO hosts of the pool need the same number of data drives; drives per host: ${join(", ", [for h in var.hosts : "${h.name}=${length(h.data_disks_gib)}" if contains(h.roles, "minio")])}."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "minio")]) <= 1 || sum(concat([0], [for h in var.hosts : length(h.data_disks_gib) if contains(h.roles, "minio")])) >= 4
    error_message = "A distributed MinIO pool needs at least 4 drives in total for erasure coding; ${length([for x in var.hosts : x if contains(x.roles, "minio")])} host(s) have ${sum(concat([0], [for h in var.hosts : length(h.data_disks_gib) if contains(h.roles, "minio")]))}."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "flink_taskmanager")]) == 0 || length([for x in var.hosts : x if contains(x.roles, "flink_jobmanager")]) > 0
    error_message = "flink_taskmanager hosts need a flink_jobmanager host."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "flink_jobmanager")]) <= 1 || length([for x in var.hosts : x if contains(x.roles, "zookeeper")]) > 0
    error_message = "More than one flink_jobmanager (${join(", ", [for x in var.hosts : x.name if contains(x.roles, "flink_jobmanager")])}) means JobManager high availability, which needs zookeeper hosts."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "zookeeper")]) % 2 == 1 || length([for x in var.hosts : x if contains(x.roles, "zookeeper")]) == 0
    error_message = "ZooKeeper needs an odd number of hosts (1, 3, 5); zookeeper has ${length([for x in var.hosts : x if contains(x.roles, "zookeeper")])}."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "metastore_db")]) <= 1 && (length([for x in var.hosts : x if contains(x.roles, "hive_metastore")]) == 0 || length([for x in var.hosts : x if contains(x.roles, "metastore_db")]) == 1)
    error_message = "The Hive Metastore needs exactly one metastore_db (PostgreSQL) host; metastore_db has ${length([for x in var.hosts : x if contains(x.roles, "metastore_db")])}, hive_metastore ${length([for x in var.hosts : x if contains(x.roles, "hive_metastore")])}."
  }
  validation {
    condition     = length([for x in var.hosts : x if contains(x.roles, "prometheus")]) > 0 || (length([for x in var.hosts : x if contains(x.roles, "alertmanager")]) == 0 && length([for x in var.hosts : x if contains(x.roles, "grafana")]) == 0)
    error_message = "alertmanager and grafana hosts need a prometheus host."
  }
}

# -------------------------------------------------------------------------------------------------
# Network
# -------------------------------------------------------------------------------------------------

variable "network" {
  description = "The hosts' IPv4 network: cidr (e.g. 192.0.2.0/24), gateway (default: the first address of cidr), first_host_index (host number of the first assigned address, default 10), dns_servers and domain (search domain; hosts get <name>.<domain> as FQDN)."
  type = object({
    cidr             = string
    gateway          = optional(string)
    first_host_index = optional(number, 10)
    dns_servers      = optional(list(string), [])
    domain           = optional(string)
  })

  validation {
    condition     = can(regex("^[0-9.]+/([0-9]|[12][0-9]|3[0-2])$", var.network.cidr)) && can(cidrhost(var.network.cidr, 0))
    error_message = "network.cidr must be an IPv4 network in CIDR notation such as 192.0.2.0/24, got \"${var.network.cidr}\"."
  }
  validation {
    condition     = var.network.gateway == null || try(cidrhost("${var.network.gateway}/${split("/", var.network.cidr)[1]}", 0) == cidrhost(var.network.cidr, 0), false)
    error_message = "network.gateway must be an IPv4 address inside network.cidr (${var.network.cidr})."
  }
  validation {
    condition     = var.network.first_host_index >= 1 && floor(var.network.first_host_index) == var.network.first_host_index
    error_message = "network.first_host_index must be a whole number >= 1."
  }
  validation {
    condition     = alltrue([for s in var.network.dns_servers : can(cidrhost("${s}/32", 0))])
    error_message = "network.dns_servers must be IPv4 addresses."
  }
  validation {
    condition     = var.network.domain == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.network.domain))
    error_message = "network.domain must be a lower-case DNS domain such as dc1.example.net."
  }
}

variable "admin_cidrs" {
  description = "Networks (CIDR) from which administrators and the Ansible controller reach the hosts over SSH (platform_admin_cidrs)."
  type        = list(string)

  validation {
    condition     = length(var.admin_cidrs) > 0 && alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])
    error_message = "admin_cidrs must list at least one network in CIDR notation (e.g. 192.0.2.0/24)."
  }
}

variable "client_cidrs" {
  description = "Networks (CIDR) of the platform's users; ports marked client in the port data are open to them (platform_client_cidrs)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.client_cidrs : can(cidrhost(c, 0))])
    error_message = "client_cidrs must be networks in CIDR notation (e.g. 203.0.113.0/24)."
  }
}

variable "endpoint_cidrs" {
  description = "One endpoint's own user networks: port name of the port data -> networks (CIDR). They replace client_cidrs for that port; admin ports stay open to admin_cidrs too; an empty list closes a published port to users (platform_endpoint_cidrs)."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for c in flatten(values(var.endpoint_cidrs)) : can(cidrhost(c, 0))])
    error_message = "endpoint_cidrs must map port names to networks in CIDR notation (e.g. {grafana_web = [\"203.0.113.0/24\"]})."
  }
}

variable "ssh" {
  description = "How Ansible connects: user (ansible_user; null = Ansible's default), port (ansible_port), private_key_file (ansible_ssh_private_key_file, a path on the controller) and authorized_keys (public keys the VM platforms install for user)."
  type = object({
    user             = optional(string)
    port             = optional(number, 22)
    private_key_file = optional(string)
    authorized_keys  = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = var.ssh.user == null || can(regex("^[a-z_][a-z0-9_-]{0,31}$", coalesce(var.ssh.user, "-")))
    error_message = "ssh.user must be a POSIX user name."
  }
  validation {
    condition     = var.ssh.port >= 1 && var.ssh.port <= 65535 && floor(var.ssh.port) == var.ssh.port
    error_message = "ssh.port must be a TCP port (1-65535)."
  }
}

# -------------------------------------------------------------------------------------------------
# Shared data (read, never copied)
# -------------------------------------------------------------------------------------------------

variable "ports_file" {
  description = "Path of the port data (platform_ports) that the Ansible firewall reads too. null = the repository's roles/platform/defaults/main/ports.yml."
  type        = string
  default     = null
}

variable "platform_file" {
  description = "Path of the platform wiring that defines platform_groups (the allowed roles). null = the repository's roles/platform/defaults/main/platform.yml."
  type        = string
  default     = null
}
