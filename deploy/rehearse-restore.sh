#!/usr/bin/env bash
# Rehearses restoring one service's database (deploy/RESTORE.md): dumps it with `pg_dump -Fc`,
# restores the dump into a fresh scratch database on the same server, then compares every table
# (row count, and an md5 of its rows in primary-key order) and every sequence between the source and
# the copy, one line each. Exits non-zero on any difference or failed step; the scratch database is
# dropped either way.
#
#   deploy/rehearse-restore.sh postgres://postgres@127.0.0.1:5432/nomination
#
# The URL's user needs CREATEDB. The copy is restored with --no-owner --no-privileges, so the
# rehearsal checks the data and the schema, not roles (which live outside a database's dump).
#
# REHEARSE_RESTORE_AFTER_RESTORE: SQL run in the scratch database after the restore and before the
# comparison, to show that a damaged copy is caught (tests/e2e/backup.rs uses it).
set -euo pipefail

if [[ $# -ne 1 || $1 != postgres*://*/* ]]; then
  echo "usage: $0 postgres://USER@HOST:PORT/DATABASE" >&2
  exit 2
fi
source_url=$1

psql_at() { psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 "$@"; }

source_db=$(psql_at "$source_url" -c 'select current_database()')
scratch_db="rehearse_$(printf '%s' "$source_db" | tr -c 'a-zA-Z0-9_' '_' | cut -c1-40)_$$"
# The same URL with the scratch database in its path (query parameters kept).
scratch_url=$(printf '%s' "$source_url" | sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\\1${scratch_db}#")

work=$(mktemp -d)
created=false
cleanup() {
  status=$?
  if $created; then
    psql_at "$source_url" -c "drop database if exists \"$scratch_db\" with (force)" >/dev/null ||
      echo "rehearse-restore: could not drop the scratch database $scratch_db" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

echo "rehearse-restore: dumping $source_db"
pg_dump --format=custom --file="$work/dump" "$source_url"
echo "rehearse-restore: restoring into $scratch_db ($(du -h "$work/dump" | cut -f1) dump)"
psql_at "$source_url" -c "create database \"$scratch_db\" template template0" >/dev/null
created=true
pg_restore --exit-on-error --no-owner --no-privileges --dbname="$scratch_url" "$work/dump"

if [[ -n ${REHEARSE_RESTORE_AFTER_RESTORE:-} ]]; then
  psql_at "$scratch_url" -c "$REHEARSE_RESTORE_AFTER_RESTORE" >/dev/null
fi

# One line per relation: `table|schema.name|<row-count-query>|<checksum-query>` or
# `sequence|schema.name|<state-query>`. Rows are hashed in primary-key order (whole-row order for a
# table without one), so the same data gives the same checksum whatever its physical order.
relations_sql=$(cat <<'SQL'
select case c.relkind when 'S' then 'sequence' else 'table' end,
       format('%I.%I', n.nspname, c.relname)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'S')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\_toast%' and n.nspname not like 'pg\_temp%'
order by 1, 2
SQL
)
order_sql=$(cat <<'SQL'
select coalesce(
  (select string_agg(format('t.%I', a.attname), ', ' order by k.ord)
   from pg_index i
   cross join unnest(i.indkey) with ordinality k(attnum, ord)
   join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
   where i.indrelid = :'rel'::regclass and i.indisprimary),
  't::text')
SQL
)

summary() {
  local url=$1 kind rel order
  while IFS='|' read -r kind rel; do
    [[ -z $kind ]] && continue
    if [[ $kind == sequence ]]; then
      printf 'sequence|%s|%s\n' "$rel" "$(psql_at "$url" -c "select last_value || ' ' || is_called from $rel")"
    else
      order=$(psql_at "$url" -v rel="$rel" <<<"$order_sql")
      printf 'table|%s|%s\n' "$rel" "$(psql_at "$url" -F ' ' -c \
        "select count(*), coalesce(md5(string_agg(t::text, E'\\n' order by $order)), '-') from $rel t")"
    fi
  done < <(psql_at "$url" -F '|' <<<"$relations_sql")
}

summary "$source_url" > "$work/source"
summary "$scratch_url" > "$work/restored"

differences=0
printf '%-9s %-48s %12s %12s  %s\n' kind relation source restored result
while IFS='|' read -r kind rel state; do
  restored=$(awk -F'|' -v k="$kind" -v r="$rel" '$1 == k && $2 == r' "$work/restored" | cut -d'|' -f3-)
  # Rows for a table, last value for a sequence.
  shown_source=${state%% *} shown_restored=${restored%% *}
  if [[ -z $restored ]]; then
    result="MISSING from the restore"
  elif [[ $restored != "$state" ]]; then
    if [[ $kind == table && ${restored%% *} == "${state%% *}" ]]; then
      result="DIFFERENT rows (same count, checksum differs)"
    else
      result="DIFFERENT"
    fi
  else
    result=ok
  fi
  [[ $result == ok ]] || differences=$((differences + 1))
  printf '%-9s %-48s %12s %12s  %s\n' "$kind" "$rel" "$shown_source" "${shown_restored:--}" "$result"
done < "$work/source"
while IFS='|' read -r kind rel restored; do
  if [[ -z $(awk -F'|' -v k="$kind" -v r="$rel" '$1 == k && $2 == r' "$work/source") ]]; then
    differences=$((differences + 1))
    printf '%-9s %-48s %12s %12s  %s\n' "$kind" "$rel" - "${restored%% *}" "EXTRA in the restore"
  fi
done < "$work/restored"

tables=$(grep -c '^table|' "$work/source" || true)
sequences=$(grep -c '^sequence|' "$work/source" || true)
if ((differences > 0)); then
  echo "rehearse-restore: FAILED: $differences differences between $source_db ($tables tables, $sequences sequences) and its restore"
  exit 1
fi
echo "rehearse-restore: ok: $tables tables and $sequences sequences of $source_db identical after dump and restore"
