# shellcheck shell=bash
# Sourced by the MariaDB image's entrypoint on the primary's first start (empty data
# directory), after it created root; docker_process_sql and docker_sql_escape_string_literal
# are its functions. Same accounts as deploy/local/topology.py, for any host ('%') since
# every client is another container:
#
#   repl          REPLICATION SLAVE, for the replicas
#   pinstablr     everything on the pinstablr database (the app and its migrations)
#   pinstablr_ro  SELECT on it plus SLAVE MONITOR (SHOW SLAVE STATUS, for the replica lag)
#
# These statements go to the binary log (the entrypoint keeps only its own root setup out
# of it), so the replicas, which replay the primary's log from the beginning, get the
# database and the accounts through replication, exactly as on the local topology.
: "${PINSTABLR_DB_PASSWORD:?}" "${PINSTABLR_DB_RO_PASSWORD:?}" "${PINSTABLR_REPL_PASSWORD:?}"

app_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_PASSWORD")
ro_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_RO_PASSWORD")
repl_password=$(docker_sql_escape_string_literal "$PINSTABLR_REPL_PASSWORD")

docker_process_sql --binary-mode <<EOSQL
CREATE DATABASE IF NOT EXISTS \`pinstablr\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '${repl_password}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'pinstablr'@'%' IDENTIFIED BY '${app_password}';
GRANT ALL PRIVILEGES ON \`pinstablr\`.* TO 'pinstablr'@'%';
CREATE USER IF NOT EXISTS 'pinstablr_ro'@'%' IDENTIFIED BY '${ro_password}';
GRANT SELECT ON \`pinstablr\`.* TO 'pinstablr_ro'@'%';
GRANT SLAVE MONITOR ON *.* TO 'pinstablr_ro'@'%';
EOSQL
