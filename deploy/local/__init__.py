"""Local servers on loopback: the MariaDB topology, S3, the whole cluster."""
