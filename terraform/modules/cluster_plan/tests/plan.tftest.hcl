# What the plan computes for a valid cluster: addresses, groups, sizing, firewall, inventory.
# Run: terraform init && terraform test (in terraform/modules/cluster_plan).

variables {
  environment  = "prod"
  admin_cidrs  = ["192.0.2.0/24"]
  client_cidrs = ["203.0.113.0/24"]
  network = {
    cidr        = "10.20.0.0/24"
    dns_servers = ["10.20.0.2"]
    domain      = "dc1.example.net"
  }
  hosts = [
    { name = "store1", roles = ["minio"], data_disks_gib = [100, 100] },
    { name = "store2", roles = ["minio"], data_disks_gib = [100, 100] },
    { name = "store3", roles = ["minio"], data_disks_gib = [100, 100] },
    { name = "store4", roles = ["minio"], data_disks_gib = [100, 100] },
    { name = "meta1", roles = ["metastore_db", "hive_metastore"] },
    { name = "query1", roles = ["trino_coordinator"], address = "10.20.0.100", cpus = 8, memory_mib = 32768, disk_gib = 50 },
    { name = "query2", roles = ["trino_worker"] },
    { name = "stream1", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_a"] },
    { name = "stream2", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_b"] },
    { name = "stream3", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_a"] },
    { name = "flink1", roles = ["flink_jobmanager"] },
    { name = "flink2", roles = ["flink_taskmanager"] },
    { name = "ops1", roles = ["prometheus", "alertmanager", "grafana"] },
  ]
}

# --- address math -------------------------------------------------------------------------------

run "addresses_follow_list_index" {
  command = plan

  assert {
    condition     = jsonencode([for n in output.host_names : output.hosts[n].address]) == jsonencode(["10.20.0.10", "10.20.0.11", "10.20.0.12", "10.20.0.13", "10.20.0.14", "10.20.0.100", "10.20.0.16", "10.20.0.17", "10.20.0.18", "10.20.0.19", "10.20.0.20", "10.20.0.21", "10.20.0.22"])
    error_message = "Assigned addresses must be cidrhost(cidr, 10 + list index), explicit ones kept."
  }
  assert {
    condition     = output.hosts["store2"].cidr_address == "10.20.0.11/24" && output.hosts["store2"].fqdn == "store2.dc1.example.net"
    error_message = "cidr_address and fqdn are wrong."
  }
  assert {
    condition     = output.network.gateway == "10.20.0.1" && output.network.netmask == "255.255.255.0" && output.network.prefix_length == 24
    error_message = "The gateway defaults to the first address of the network."
  }
}

run "addresses_from_other_start_in_small_network" {
  command = plan
  # One MinIO host: the fault-tolerance advisory fires (tested in checks.tftest.hcl).
  expect_failures = [check.minio_fault_tolerance]

  variables {
    network = { cidr = "172.16.5.64/27", gateway = "172.16.5.94", first_host_index = 1 }
    hosts = [
      { name = "a", roles = ["minio"], data_disks_gib = [10] },
      { name = "b", roles = ["prometheus"] },
      { name = "c", roles = ["grafana"], address = "172.16.5.90" },
    ]
  }

  assert {
    condition     = output.hosts["a"].address == "172.16.5.65" && output.hosts["b"].address == "172.16.5.66" && output.hosts["c"].address == "172.16.5.90"
    error_message = "Addresses in a /27 starting at host number 1 are wrong."
  }
  assert {
    condition     = output.hosts["a"].cidr_address == "172.16.5.65/27" && output.network.gateway == "172.16.5.94" && output.hosts["a"].fqdn == "a"
    error_message = "Prefix, explicit gateway or FQDN without a domain are wrong."
  }
}

run "adding_a_host_at_the_end_moves_no_address" {
  command = plan

  variables {
    hosts = [
      { name = "store1", roles = ["minio"], data_disks_gib = [100, 100] },
      { name = "store2", roles = ["minio"], data_disks_gib = [100, 100] },
      { name = "store3", roles = ["minio"], data_disks_gib = [100, 100] },
      { name = "store4", roles = ["minio"], data_disks_gib = [100, 100] },
      { name = "meta1", roles = ["metastore_db", "hive_metastore"] },
      { name = "query1", roles = ["trino_coordinator"], address = "10.20.0.100", cpus = 8, memory_mib = 32768, disk_gib = 50 },
      { name = "query2", roles = ["trino_worker"] },
      { name = "stream1", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_a"] },
      { name = "stream2", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_b"] },
      { name = "stream3", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_a"] },
      { name = "flink1", roles = ["flink_jobmanager"] },
      { name = "flink2", roles = ["flink_taskmanager"] },
      { name = "ops1", roles = ["prometheus", "alertmanager", "grafana"] },
      { name = "query3", roles = ["trino_worker"] },
    ]
  }

  assert {
    condition     = output.hosts["ops1"].address == "10.20.0.22" && output.hosts["query3"].address == "10.20.0.23"
    error_message = "A host appended at the end must get the next address and leave the others alone."
  }
}

# --- groups and sizing --------------------------------------------------------------------------

run "groups" {
  command = plan

  assert {
    condition     = jsonencode(output.groups["minio"]) == jsonencode(["store1", "store2", "store3", "store4"])
    error_message = "minio group is wrong."
  }
  assert {
    condition     = jsonencode(output.groups["kafka_controller"]) == jsonencode(["stream1", "stream2", "stream3"]) && jsonencode(output.groups["kafka_broker"]) == jsonencode(["stream1", "stream2", "stream3"])
    error_message = "A host in several roles must be in each group."
  }
  assert {
    condition     = jsonencode(output.groups["zookeeper"]) == jsonencode([]) && length(output.groups) == 17
    error_message = "Every platform group must be present (empty when not deployed), plus the two extra groups."
  }
  assert {
    condition     = jsonencode(output.groups["rack_a"]) == jsonencode(["stream1", "stream3"]) && jsonencode(output.groups["rack_b"]) == jsonencode(["stream2"])
    error_message = "Extra groups are wrong."
  }
  assert {
    condition     = jsonencode(output.hosts["stream1"].groups) == jsonencode(["kafka_controller", "kafka_broker", "rack_a"])
    error_message = "A host's groups are its roles plus its extra groups."
  }
}

run "sizing" {
  command = plan

  assert {
    condition     = jsonencode(output.hosts["query1"].sizing) == jsonencode({ cpus = 8, memory_mib = 32768, disk_gib = 50, data_disks_gib = [] })
    error_message = "Explicit sizing hints must be kept."
  }
  assert {
    condition     = output.hosts["ops1"].sizing.cpus == 2 && output.hosts["ops1"].sizing.memory_mib == 4096 + 1024 + 1024 && output.hosts["ops1"].sizing.disk_gib == 100
    error_message = "Recommended sizing: largest CPU and disk figure, sum of memory figures of the roles."
  }
  assert {
    condition     = jsonencode(output.hosts["store1"].sizing.data_disks_gib) == jsonencode([100, 100])
    error_message = "Data drives must be passed through."
  }
}

# --- firewall matrix ----------------------------------------------------------------------------

run "firewall_matrix_from_port_data" {
  command = plan

  variables {
    ports_file = "tests/fixtures/ports.yml"
  }

  assert {
    condition     = output.firewall.ports_file == "tests/fixtures/ports.yml" && keys(output.firewall.ports) == ["console", "gossip", "node", "s3"]
    error_message = "The matrix must have exactly the entries of the port data."
  }
  assert {
    condition     = jsonencode(output.firewall.ports["s3"].hosts) == jsonencode(["store1", "store2", "store3", "store4"])
    error_message = "Listening hosts are the members of the entry's groups."
  }
  assert {
    condition     = jsonencode(output.firewall.ports["s3"].sources) == jsonencode(["10.20.0.10/32", "10.20.0.11/32", "10.20.0.12/32", "10.20.0.13/32", "10.20.0.16/32"])
    error_message = "Sources are the member addresses of from_groups, in host order."
  }
  assert {
    condition     = jsonencode(output.firewall.ports["s3"].client_cidrs) == jsonencode(["203.0.113.0/24"]) && jsonencode(output.firewall.ports["node"].client_cidrs) == jsonencode([])
    error_message = "Client networks apply to client ports only."
  }
  assert {
    condition     = length(output.firewall.ports["node"].hosts) == 13 && jsonencode(output.firewall.ports["node"].sources) == jsonencode(["10.20.0.22/32"])
    error_message = "Group \"all\" means every host."
  }
  assert {
    condition     = output.firewall.ports["gossip"].protocol == "udp" && jsonencode(output.firewall.ports["gossip"].sources) == jsonencode(["10.20.0.22/32"])
    error_message = "Protocol and self-membership are wrong."
  }
  assert {
    condition = jsonencode(output.firewall.rules["store1"]) == jsonencode([
      { name = "console", port = 9001, protocol = "tcp", sources = ["203.0.113.0/24"] },
      { name = "node", port = 9100, protocol = "tcp", sources = ["10.20.0.22/32"] },
      { name = "s3", port = 9000, protocol = "tcp", sources = ["10.20.0.10/32", "10.20.0.11/32", "10.20.0.12/32", "10.20.0.13/32", "10.20.0.16/32", "203.0.113.0/24"] },
    ])
    error_message = "Host rules of store1 are wrong."
  }
  assert {
    condition     = [for r in output.firewall.rules["query2"] : r.name] == ["node"]
    error_message = "A host gets rules only for ports it listens on."
  }
}

run "firewall_without_client_networks_closes_client_only_ports" {
  command = plan

  variables {
    ports_file   = "tests/fixtures/ports.yml"
    client_cidrs = []
  }

  assert {
    condition     = [for r in output.firewall.rules["store1"] : r.name] == ["node", "s3"]
    error_message = "A port nobody may reach must get no rule."
  }
}

run "firewall_endpoint_networks_replace_the_client_networks_of_one_port" {
  command = plan

  variables {
    ports_file     = "tests/fixtures/ports.yml"
    endpoint_cidrs = { console = ["198.51.100.0/24"], s3 = [] }
  }

  assert {
    condition     = jsonencode(output.firewall.ports["console"].client_cidrs) == jsonencode(["198.51.100.0/24"]) && jsonencode(output.firewall.ports["s3"].client_cidrs) == jsonencode([])
    error_message = "An endpoint's own networks replace the client networks of that port only."
  }
  assert {
    condition = jsonencode(output.firewall.rules["store1"]) == jsonencode([
      { name = "console", port = 9001, protocol = "tcp", sources = ["198.51.100.0/24"] },
      { name = "node", port = 9100, protocol = "tcp", sources = ["10.20.0.22/32"] },
      { name = "s3", port = 9000, protocol = "tcp", sources = ["10.20.0.10/32", "10.20.0.11/32", "10.20.0.12/32", "10.20.0.13/32", "10.20.0.16/32"] },
    ])
    error_message = "Host rules of store1 with endpoint networks are wrong."
  }
  assert {
    condition     = yamldecode(output.group_vars_all_yaml).platform_endpoint_cidrs == { console = ["198.51.100.0/24"], s3 = [] }
    error_message = "platform_endpoint_cidrs must be handed to Ansible."
  }
}

run "firewall_reads_the_repository_port_data_by_default" {
  command = plan

  assert {
    condition     = endswith(output.firewall.ports_file, "roles/platform/defaults/main/ports.yml") && length(output.firewall.ports) == length(yamldecode(file("../../../roles/platform/defaults/main/ports.yml")).platform_ports)
    error_message = "By default the matrix must come from the repository's ports.yml, entry for entry."
  }
}

# --- rendered inventory -------------------------------------------------------------------------

run "inventory" {
  command = plan

  variables {
    ssh = { user = "deploy", port = 2222, private_key_file = "~/.ssh/fdp_prod" }
  }

  assert {
    condition     = startswith(output.inventory_yaml, "---\n")
    error_message = "The inventory must be a YAML document."
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).all.hosts["query1"] == { ansible_host = "10.20.0.100", ansible_user = "deploy", ansible_port = 2222, ansible_ssh_private_key_file = "~/.ssh/fdp_prod" }
    error_message = "Host variables are wrong."
  }
  assert {
    condition     = length(yamldecode(output.inventory_yaml).all.hosts) == 13 && alltrue([for n, v in yamldecode(output.inventory_yaml).all.hosts : v.ansible_host == output.hosts[n].address])
    error_message = "Every host must have its ansible_host."
  }
  assert {
    condition     = keys(yamldecode(output.inventory_yaml).all.children["minio"].hosts) == ["store1", "store2", "store3", "store4"] && yamldecode(output.inventory_yaml).all.children["zookeeper"].hosts == {}
    error_message = "Groups are wrong in the inventory."
  }
  assert {
    condition     = keys(yamldecode(output.inventory_yaml).all.children["rack_a"].hosts) == ["stream1", "stream3"]
    error_message = "Extra groups must be in the inventory."
  }
  assert {
    condition = yamldecode(output.group_vars_all_yaml) == {
      platform_environment  = "prod"
      platform_admin_cidrs  = ["192.0.2.0/24"]
      platform_client_cidrs = ["203.0.113.0/24"]
      platform_extra_groups = ["rack_a", "rack_b"]
    }
    error_message = "group_vars/all/terraform.yml is wrong."
  }
  assert {
    condition     = output.ansible_inventory.environment == "prod" && keys(output.ansible_inventory.files) == ["group_vars/all/terraform.yml", "hosts.yml"]
    error_message = "The hand-off output is wrong."
  }
}

run "inventory_defaults_leave_connection_to_ansible" {
  command         = plan
  expect_failures = [check.minio_fault_tolerance]

  variables {
    client_cidrs = []
    hosts = [
      { name = "store1", roles = ["minio"], data_disks_gib = [50] },
      { name = "ops1", roles = ["prometheus"] },
    ]
  }

  assert {
    condition     = yamldecode(output.inventory_yaml).all.hosts["ops1"] == { ansible_host = "10.20.0.11" }
    error_message = "Without ssh settings only ansible_host is set."
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).all.hosts["store1"] == { ansible_host = "10.20.0.10", minio_drives = ["/mnt/minio1"] }
    error_message = "A MinIO host gets one drive path per data drive, and no connection settings."
  }
  assert {
    condition     = yamldecode(output.group_vars_all_yaml) == { platform_environment = "prod", platform_admin_cidrs = ["192.0.2.0/24"], platform_client_cidrs = [] }
    error_message = "Without extra groups, platform_extra_groups is not set."
  }
}
