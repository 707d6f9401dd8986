# Three existing hosts running everything (a test or edge site). Plan and apply warn that
# MinIO on 3 hosts tolerates no host failure and that the sizing is below the recommendation.
environment = "edge"
admin_cidrs = ["10.0.0.0/8"]

network = {
  cidr             = "10.50.3.0/24"
  first_host_index = 21
}

ssh = {
  user             = "ansible"
  port             = 2222
  private_key_file = "~/.ssh/fdp_edge"
}

hosts = [
  {
    name           = "edge1"
    roles          = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore", "trino_coordinator", "flink_jobmanager", "prometheus", "alertmanager", "grafana"]
    cpus           = 8
    memory_mib     = 32768
    data_disks_gib = [500, 500]
  },
  { name = "edge2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_worker", "flink_taskmanager"], cpus = 8, memory_mib = 32768, data_disks_gib = [500, 500] },
  { name = "edge3", roles = ["minio", "kafka_controller", "kafka_broker", "trino_worker", "flink_taskmanager"], cpus = 8, memory_mib = 32768, data_disks_gib = [500, 500] },
]
