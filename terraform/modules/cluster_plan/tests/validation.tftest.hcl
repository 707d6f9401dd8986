# Every validation, precondition and check of cluster_plan: each run changes one thing in a
# valid baseline and names the rule that must reject it (expect_failures). The baseline run
# proves that nothing else fails. Exact messages are asserted by tests/terraform (pytest).

variables {
  environment = "test"
  admin_cidrs = ["192.0.2.0/24"]
  network     = { cidr = "10.20.0.0/24" }
  hosts = [
    { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
    { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
    { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
    { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
  ]
}


run "baseline_is_valid" {
  # The baseline passes every validation, precondition and check.
  command = plan

  assert {
    condition     = length(output.host_names) == 4 && output.hosts["n4"].address == "10.20.0.13"
    error_message = "The baseline must plan."
  }
}

run "environment_name" {
  # platform_environment must be a short lower-case name.
  command         = plan
  expect_failures = [var.environment]

  variables {
    environment = "Prod_EU"
  }
}

run "no_hosts" {
  # At least one host.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = []
  }
}

run "host_name_format" {
  # Host names are lower-case DNS labels.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "N4_big", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "duplicate_host_names" {
  # Host names are unique.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "host_without_roles" {
  # Every host has a role.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = [] },
    ]
  }
}

run "role_listed_twice" {
  # A role is listed once per host.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker", "trino_worker"] },
    ]
  }
}

run "unknown_role" {
  # Roles are platform groups (read from platform.yml).
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_workers"] },
    ]
  }
}

run "roles_come_from_the_platform_file" {
  # The allowed roles are those of platform_file, not a copy.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    platform_file = "tests/fixtures/platform-small.yml"
    hosts = [
      { name = "n1", roles = ["minio"], data_disks_gib = [50] },
      { name = "n2", roles = ["trino_coordinator"] },
    ]
  }
}

run "extra_group_is_a_platform_group" {
  # Extra groups must not shadow platform groups.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], extra_groups = ["minio"] },
    ]
  }
}

run "extra_group_name_format" {
  # Extra groups are Ansible group names.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], extra_groups = ["Rack-A"] },
    ]
  }
}

run "address_format" {
  # Addresses are IPv4 addresses.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], address = "10.20.0.300" },
    ]
  }
}

run "duplicate_addresses" {
  # Explicit addresses are unique.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], address = "10.20.0.50" },
      { name = "n6", roles = ["trino_worker"], address = "10.20.0.50" },
    ]
  }
}

run "address_outside_network" {
  # Explicit addresses lie inside network.cidr.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], address = "10.99.0.5" },
    ]
  }
}

run "address_is_gateway" {
  # An explicit address must not be the gateway.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], address = "10.20.0.1" },
    ]
  }
}

run "address_is_broadcast" {
  # An explicit address must not be the broadcast address.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], address = "10.20.0.255" },
    ]
  }
}

run "sizing_cpus" {
  # Sizing hints: whole CPUs >= 1.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], cpus = 0 },
    ]
  }
}

run "sizing_memory" {
  # Sizing hints: memory_mib >= 1024.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], memory_mib = 512 },
    ]
  }
}

run "sizing_data_disk" {
  # Sizing hints: data drives >= 1 GiB.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], data_disks_gib = [0] },
    ]
  }
}

run "two_trino_coordinators" {
  # Exactly one Trino coordinator.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_coordinator"] },
    ]
  }
}

run "trino_workers_without_coordinator" {
  # Workers need the coordinator.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "even_kraft_controller_count" {
  # An odd number of KRaft controllers.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "kafka_brokers_without_controllers" {
  # Brokers and controllers come together.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "minio_host_without_drives" {
  # Every MinIO host has a data drive.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["minio"] },
    ]
  }
}

run "minio_uneven_drives" {
  # MinIO hosts have the same number of drives.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["minio"], data_disks_gib = [50] },
    ]
  }
}

run "minio_too_few_drives" {
  # A distributed pool has at least 4 drives.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "s1", roles = ["minio", "prometheus"], data_disks_gib = [50] },
      { name = "s2", roles = ["minio"], data_disks_gib = [50] },
    ]
  }
}

run "flink_taskmanager_without_jobmanager" {
  # TaskManagers need a JobManager.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "flink_ha_without_zookeeper" {
  # Several JobManagers need ZooKeeper.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["flink_jobmanager"] },
    ]
  }
}

run "even_zookeeper_count" {
  # An odd number of ZooKeeper hosts.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["zookeeper"] },
      { name = "n6", roles = ["zookeeper"] },
    ]
  }
}

run "two_metastore_databases" {
  # One PostgreSQL host for the metastore.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["metastore_db"] },
    ]
  }
}

run "metastore_without_database" {
  # The metastore needs its database.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "grafana_without_prometheus" {
  # Grafana and Alertmanager need Prometheus.
  command         = plan
  expect_failures = [var.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "network_cidr_format" {
  # network.cidr is an IPv4 CIDR.
  command         = plan
  expect_failures = [var.network]

  variables {
    network = { cidr = "10.20.0.0" }
  }
}

run "gateway_outside_network" {
  # The gateway lies inside the network.
  command         = plan
  expect_failures = [var.network]

  variables {
    network = { cidr = "10.20.0.0/24", gateway = "10.21.0.1" }
  }
}

run "first_host_index" {
  # first_host_index >= 1.
  command         = plan
  expect_failures = [var.network]

  variables {
    network = { cidr = "10.20.0.0/24", first_host_index = 0 }
  }
}

run "dns_servers" {
  # DNS servers are IPv4 addresses.
  command         = plan
  expect_failures = [var.network]

  variables {
    network = { cidr = "10.20.0.0/24", dns_servers = ["dns.example.net"] }
  }
}

run "domain_format" {
  # The domain is a lower-case DNS name.
  command         = plan
  expect_failures = [var.network]

  variables {
    network = { cidr = "10.20.0.0/24", domain = "Example.COM" }
  }
}

run "admin_cidrs_required" {
  # admin_cidrs lists at least one network.
  command         = plan
  expect_failures = [var.admin_cidrs]

  variables {
    admin_cidrs = []
  }
}

run "admin_cidrs_format" {
  # admin_cidrs are CIDR networks.
  command         = plan
  expect_failures = [var.admin_cidrs]

  variables {
    admin_cidrs = ["192.0.2.1"]
  }
}

run "client_cidrs_format" {
  # client_cidrs are CIDR networks.
  command         = plan
  expect_failures = [var.client_cidrs]

  variables {
    client_cidrs = ["clients"]
  }
}

run "endpoint_cidrs_format" {
  # endpoint_cidrs map port names to CIDR networks.
  command         = plan
  expect_failures = [var.endpoint_cidrs]

  variables {
    endpoint_cidrs = { grafana_web = ["analysts"] }
  }
}

run "ssh_user" {
  # ssh.user is a POSIX user name.
  command         = plan
  expect_failures = [var.ssh]

  variables {
    ssh = { user = "Deploy User" }
  }
}

run "ssh_port" {
  # ssh.port is a TCP port.
  command         = plan
  expect_failures = [var.ssh]

  variables {
    ssh = { port = 0 }
  }
}

run "network_too_small" {
  # The network must have room for every assigned address.
  command         = plan
  expect_failures = [output.hosts]

  variables {
    network = { cidr = "10.20.0.0/29", first_host_index = 4 }
  }
}

run "explicit_address_collides_with_assigned" {
  # An explicit address must not be handed out automatically too.
  command         = plan
  expect_failures = [output.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
      { name = "n5", roles = ["trino_worker"], address = "10.20.0.11" },
    ]
  }
}

run "assigned_address_is_gateway" {
  # An assigned address must not be the gateway.
  command         = plan
  expect_failures = [output.hosts]

  variables {
    network = { cidr = "10.20.0.0/24", gateway = "10.20.0.12" }
  }
}

run "port_collision_on_shared_host" {
  # Services of one host must not share a port (real port data: coordinator and worker on 8443).
  command         = plan
  expect_failures = [output.hosts]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator", "trino_worker"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "port_collision_from_port_data" {
  # Collisions follow the port data file.
  command         = plan
  expect_failures = [output.hosts]

  variables {
    ports_file = "tests/fixtures/ports-collision.yml"
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator", "trino_worker"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "invalid_port_data" {
  # Unknown groups, protocols and out-of-range ports in the port data are reported.
  command         = plan
  expect_failures = [output.firewall]

  variables {
    ports_file = "tests/fixtures/ports-invalid.yml"
  }
}

run "check_minio_fault_tolerance" {
  # Advisory: fewer than 4 MinIO hosts.
  command         = plan
  expect_failures = [check.minio_fault_tolerance]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"] },
    ]
  }
}

run "check_single_kraft_controller" {
  # Advisory: one KRaft controller.
  command         = plan
  expect_failures = [check.kafka_fault_tolerance]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "check_too_few_brokers" {
  # Advisory: fewer than 3 brokers.
  command         = plan
  expect_failures = [check.kafka_fault_tolerance]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "check_iceberg_catalog" {
  # Advisory: Trino/Flink without the catalog.
  command         = plan
  expect_failures = [check.iceberg_catalog]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50] },
    ]
  }
}

run "check_monitoring" {
  # Advisory: nothing monitors the platform.
  command         = plan
  expect_failures = [check.monitoring]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager"], data_disks_gib = [50, 50] },
    ]
  }
}

run "check_sizing" {
  # Advisory: sizing hints below the roles' recommendation.
  command         = plan
  expect_failures = [check.sizing]

  variables {
    hosts = [
      { name = "n1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [50, 50] },
      { name = "n2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [50, 50] },
      { name = "n3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], data_disks_gib = [50, 50] },
      { name = "n4", roles = ["minio", "trino_worker", "flink_taskmanager", "prometheus", "alertmanager", "grafana"], data_disks_gib = [50, 50], memory_mib = 4096 },
    ]
  }
}
