variable "environment" {
  description = "Environment name; part of each instance-id and of the MAC address seed."
  type        = string
}

variable "hosts" {
  description = "The hosts output of modules/cluster_plan (name => object with at least name, address, fqdn)."
  type = map(object({
    name    = string
    address = string
    fqdn    = string
  }))
}

variable "network" {
  description = "The network output of modules/cluster_plan (prefix_length, gateway, dns_servers, domain)."
  type = object({
    prefix_length = number
    gateway       = string
    dns_servers   = list(string)
    domain        = optional(string)
  })
}

variable "user" {
  description = "Administrative user that cloud-init creates (password locked, passwordless sudo, SSH keys only); Ansible connects as this user."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.user)) && var.user != "root"
    error_message = "user must be a POSIX user name other than root (set ssh.user in the platform root)."
  }
}

variable "authorized_keys" {
  description = "SSH public keys installed for user (set ssh.authorized_keys in the platform root)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.authorized_keys) > 0 && alltrue([for k in var.authorized_keys : can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh.com) [A-Za-z0-9+/=]+( .*)?$", k))])
    error_message = "authorized_keys must list at least one OpenSSH public key (ssh-ed25519 AAAA... comment); without one nobody could log in."
  }
}

variable "packages" {
  description = "Debian packages cloud-init installs on first boot (Ansible needs python3; the VM platforms read addresses through the QEMU guest agent)."
  type        = list(string)
  default     = ["python3", "qemu-guest-agent"]
}
