# Production-shaped cluster on existing hosts (the shape of inventories/sample): 15 hosts,
# every component, static addresses from the plan.
environment  = "prod"
admin_cidrs  = ["192.0.2.0/24"]
client_cidrs = ["198.51.100.0/24"]

network = {
  cidr             = "192.0.2.0/24"
  first_host_index = 11
  dns_servers      = ["192.0.2.2"]
  domain           = "prod.example.net"
}

ssh = {
  user = "debian"
}

hosts = [
  { name = "store1", roles = ["minio"], data_disks_gib = [2000, 2000] },
  { name = "store2", roles = ["minio"], data_disks_gib = [2000, 2000] },
  { name = "store3", roles = ["minio"], data_disks_gib = [2000, 2000] },
  { name = "store4", roles = ["minio"], data_disks_gib = [2000, 2000] },
  { name = "meta1", roles = ["metastore_db", "hive_metastore"] },
  { name = "query1", roles = ["trino_coordinator"] },
  { name = "query2", roles = ["trino_worker"], cpus = 16, memory_mib = 65536 },
  { name = "query3", roles = ["trino_worker"], cpus = 16, memory_mib = 65536 },
  { name = "stream1", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_a"] },
  { name = "stream2", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_b"] },
  { name = "stream3", roles = ["kafka_controller", "kafka_broker"], extra_groups = ["rack_c"] },
  { name = "flink1", roles = ["flink_jobmanager"] },
  { name = "flink2", roles = ["flink_taskmanager"] },
  { name = "flink3", roles = ["flink_taskmanager"] },
  { name = "ops1", roles = ["prometheus", "alertmanager", "grafana"], address = "192.0.2.61" },
]
