# Advisories: a failing check is a warning in plan and apply, not an error. Hard rules are
# validations (variables.tf) and preconditions (outputs.tf).

check "minio_fault_tolerance" {
  assert {
    condition     = length(local.role_hosts["minio"]) == 0 || length(local.role_hosts["minio"]) >= 4
    error_message = "MinIO on ${length(local.role_hosts["minio"])} host(s) survives no host failure with the default parity; use 4 or more hosts for production."
  }
}

check "kafka_fault_tolerance" {
  assert {
    condition     = length(local.role_hosts["kafka_controller"]) != 1
    error_message = "A single KRaft controller (${join(", ", local.role_hosts["kafka_controller"])}) is a single point of failure; use 3 controllers for production."
  }
  assert {
    condition     = length(local.role_hosts["kafka_broker"]) == 0 || length(local.role_hosts["kafka_broker"]) >= 3
    error_message = "${length(local.role_hosts["kafka_broker"])} Kafka broker(s) cannot hold topics with replication factor 3; use 3 or more brokers for production."
  }
}

check "iceberg_catalog" {
  assert {
    condition = (
      length(local.role_hosts["trino_coordinator"]) + length(local.role_hosts["flink_jobmanager"]) == 0
      || (length(local.role_hosts["hive_metastore"]) > 0 && length(local.role_hosts["minio"]) > 0)
    )
    error_message = "Trino and Flink use the Iceberg catalog, which needs hive_metastore and minio hosts; without them they run with no tables."
  }
}

check "monitoring" {
  assert {
    condition     = length(local.role_hosts["prometheus"]) > 0
    error_message = "No prometheus host: the platform would run unmonitored."
  }
}

check "sizing" {
  assert {
    condition     = length(local.undersized_hosts) == 0
    error_message = "Sizing hints below the recommendation for the host's roles: ${join("; ", [for n in local.undersized_hosts : "${n} has ${local.host[n].sizing.cpus} vCPU/${local.host[n].sizing.memory_mib} MiB/${local.host[n].sizing.disk_gib} GiB, recommended ${local.host[n].recommended.cpus}/${local.host[n].recommended.memory_mib}/${local.host[n].recommended.disk_gib}"])}."
  }
}
