# shellcheck shell=bash
# Sourced by the MariaDB image's entrypoint on the experiments server's first start. The UX
# team's own read-write database, independent of the primary (no replication), with the
# same app account as deploy/local/topology.py gives it.
: "${PINSTABLR_DB_PASSWORD:?}"

app_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_PASSWORD")

docker_process_sql --binary-mode <<EOSQL
CREATE DATABASE IF NOT EXISTS \`pinstablr_experiments\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'pinstablr'@'%' IDENTIFIED BY '${app_password}';
GRANT ALL PRIVILEGES ON \`pinstablr_experiments\`.* TO 'pinstablr'@'%';
EOSQL
