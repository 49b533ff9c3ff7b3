#!/usr/bin/env bash
# A hot standby of `primary`: cloned with pg_basebackup on first start
# (-R writes standby.signal and the connection to follow), then served
# read-only. Runs as the postgres user.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup \
      --host=primary --username=replicator --pgdata="$PGDATA" \
      --wal-method=stream --write-recovery-conf --checkpoint=fast; do
    echo "waiting for the primary"
    sleep 1
  done
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
