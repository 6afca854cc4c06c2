# shellcheck shell=bash
# Sourced by the MariaDB image's entrypoint on the experiments server's first start. The UX
# team's own read-write database, independent of the primary (no replication), with the
# same app account as deploy/local/topology.py gives it, and the administrator that builds
# the UX console's schema of views (see primary/10-accounts.sh).
: "${PINSTABLR_DB_PASSWORD:?}" "${PINSTABLR_DB_ADMIN_PASSWORD:?}"

app_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_PASSWORD")
admin_password=$(docker_sql_escape_string_literal "$PINSTABLR_DB_ADMIN_PASSWORD")

docker_process_sql --binary-mode <<EOSQL
CREATE DATABASE IF NOT EXISTS \`pinstablr_experiments\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'pinstablr'@'%' IDENTIFIED BY '${app_password}';
GRANT ALL PRIVILEGES ON \`pinstablr_experiments\`.* TO 'pinstablr'@'%';
CREATE USER IF NOT EXISTS 'pinstablr_admin'@'%' IDENTIFIED BY '${admin_password}';
GRANT CREATE USER, SET USER ON *.* TO 'pinstablr_admin'@'%';
GRANT SELECT ON \`pinstablr_experiments\`.* TO 'pinstablr_admin'@'%' WITH GRANT OPTION;
GRANT SELECT, CREATE, CREATE VIEW, DROP, SHOW VIEW ON \`pinstablr_experiments_console\`.* TO 'pinstablr_admin'@'%' WITH GRANT OPTION;
GRANT SELECT ON mysql.columns_priv TO 'pinstablr_admin'@'%';
EOSQL
