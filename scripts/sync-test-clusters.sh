#!/usr/bin/env bash
# Two PostgreSQL clusters with wal_level=logical for the database sync tests (issue 14): "syncblue" on
# 127.0.0.1:5441 and "syncgreen" on 127.0.0.1:5442, trust auth on loopback, user postgres. Idempotent: creates
# what is missing, starts what is stopped. Needs Debian's postgresql-common (pg_createcluster) and root.
set -euo pipefail
version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
if [ -z "$version" ] || ! command -v pg_createcluster >/dev/null; then
  echo "sync-test-clusters: PostgreSQL (postgresql-common) is not installed: apt-get install -y postgresql" >&2
  exit 1
fi
for pair in syncblue:5441 syncgreen:5442; do
  name=${pair%%:*}
  port=${pair##*:}
  if [ ! -d "/etc/postgresql/$version/$name" ]; then
    pg_createcluster "$version" "$name" -p "$port" \
      -o wal_level=logical -o max_replication_slots=20 -o max_wal_senders=20 \
      -- --auth-local=trust --auth-host=trust >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v n="$name" '$2 == n && $4 == "online" { found = 1 } END { exit !found }'; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
  fi
done
pg_lsclusters | grep -E 'syncblue|syncgreen'
