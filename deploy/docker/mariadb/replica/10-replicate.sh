# shellcheck shell=bash
# Sourced by the MariaDB image's entrypoint on a replica's first start (empty data
# directory); docker_process_sql and docker_sql_escape_string_literal are its functions.
# As deploy/local/topology.py does: an empty gtid_slave_pos makes the replica replay the
# primary's whole binary log (database and accounts included), with GTID positions
# (MASTER_USE_GTID=slave_pos). The connection is kept in the data directory and the server
# runs without skip-slave-start, so a restarted replica resumes replication by itself.
: "${PINSTABLR_PRIMARY_HOST:?}" "${PINSTABLR_REPL_PASSWORD:?}"

repl_password=$(docker_sql_escape_string_literal "$PINSTABLR_REPL_PASSWORD")

docker_process_sql --binary-mode <<EOSQL
SET GLOBAL gtid_slave_pos = '';
CHANGE MASTER TO
  MASTER_HOST = '${PINSTABLR_PRIMARY_HOST}',
  MASTER_PORT = ${PINSTABLR_PRIMARY_PORT:-3306},
  MASTER_USER = 'repl',
  MASTER_PASSWORD = '${repl_password}',
  MASTER_CONNECT_RETRY = 5,
  MASTER_USE_GTID = slave_pos;
START SLAVE;
EOSQL
