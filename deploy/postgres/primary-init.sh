#!/usr/bin/env bash
# Runs once, when the primary's data folder is created: a role for the
# streaming replica and the newsdesk database and role.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}';
CREATE ROLE newsdesk WITH LOGIN PASSWORD '${NEWSDESK_DB_PASSWORD}';
CREATE DATABASE newsdesk OWNER newsdesk;
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
