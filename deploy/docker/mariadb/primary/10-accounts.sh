# shellcheck shell=bash
# Sourced by the MariaDB image's entrypoint on the primary's first start (empty data
# directory), after it created root; docker_process_sql and docker_sql_escape_string_literal
# are its functions. Same accounts as deploy/local/topology.py, for any host ('%') since
# every client is another container:
#
#   repl          REPLICATION SLAVE, for the replicas
#   pinstablr     everything on the pinstablr database (the app and its migrations)
#   pinstablr_ro  SELECT on it plus SLAVE MONITOR (SHOW SLAVE STATUS, for the replica lag)
#   pinstablr_admin  builds the query consoles' schema of views, pinstablr_console, and its
#                 accounts (manage.py console_schema apply, run by the migrate step); only
#                 what that needs: CREATE USER and SET USER (a view's definer), SELECT on
#                 pinstablr with GRANT OPTION, views in pinstablr_console, and the column
#                 grants table to read back what it granted.
#                 The console account itself is made by that command, from the console URLs.
#
# These statements go to the binary log (the entrypoint keeps only its own root setup out
# of it), so the replicas, which replay the primary's log from the beginning, get the
# database and the accounts through replication, exactly as on the local topology.
: "${PINSTABLR_DB_PASSWORD:?}" "${PINSTABLR_DB_RO_PASSWORD:?}" "${PINSTABLR_REPL_PASSWORD:?}"
: "${PINSTABLR_DB_ADMIN_PASSWORD:?}"

app_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_PASSWORD")
ro_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_RO_PASSWORD")
repl_password=$(docker_sql_escape_string_literal "$PINSTABLR_REPL_PASSWORD")
admin_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_ADMIN_PASSWORD")

docker_process_sql --binary-mode <<EOSQL
CREATE DATABASE IF NOT EXISTS \`pinstablr\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '${repl_password}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'pinstablr'@'%' IDENTIFIED BY '${app_password}';
GRANT ALL PRIVILEGES ON \`pinstablr\`.* TO 'pinstablr'@'%';
CREATE USER IF NOT EXISTS 'pinstablr_ro'@'%' IDENTIFIED BY '${ro_password}';
GRANT SELECT ON \`pinstablr\`.* TO 'pinstablr_ro'@'%';
GRANT SLAVE MONITOR ON *.* TO 'pinstablr_ro'@'%';
CREATE USER IF NOT EXISTS 'pinstablr_admin'@'%' IDENTIFIED BY '${admin_password}';
GRANT CREATE USER, SET USER ON *.* TO 'pinstablr_admin'@'%';
GRANT SELECT ON \`pinstablr\`.* TO 'pinstablr_admin'@'%' WITH GRANT OPTION;
GRANT SELECT, CREATE, CREATE VIEW, DROP, SHOW VIEW ON \`pinstablr_console\`.* TO 'pinstablr_admin'@'%' WITH GRANT OPTION;
GRANT SELECT ON mysql.columns_priv TO 'pinstablr_admin'@'%';
EOSQL
