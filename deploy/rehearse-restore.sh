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

# One line per relation, from one psql session per database: `table<TAB>schema.name<TAB><rows> <md5>` or
# `sequence<TAB>schema.name<TAB><last_value> <is_called>`. The catalog query writes a statement per relation
# and \gexec runs them. Rows are hashed in primary-key order (whole-row order for a table without
# one), so the same data gives the same checksum whatever its physical order.
summary_sql=$(cat <<'SQL'
select case when c.relkind = 'S' then
         format($q$select %L || last_value || ' ' || is_called from %s$q$,
                'sequence' || chr(9) || r.name || chr(9), r.name)
       else
         format($q$select %L || count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' order by %s)), '-') from %s t$q$,
                'table' || chr(9) || r.name || chr(9),
                coalesce((select string_agg(format('t.%I', a.attname), ', ' order by k.ord)
                          from pg_index i
                          cross join unnest(i.indkey) with ordinality k(attnum, ord)
                          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                          where i.indrelid = c.oid and i.indisprimary), 't::text'),
                r.name)
       end
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join lateral (select format('%I.%I', n.nspname, c.relname) as name) r
where c.relkind in ('r', 'p', 'S')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\_toast%' and n.nspname not like 'pg\_temp%'
order by r.name
\gexec
SQL
)

summary() { psql_at "$1" <<<"$summary_sql" | sort; }

summary "$source_url" > "$work/source"
summary "$scratch_url" > "$work/restored"

differences=0
printf '%-9s %-48s %12s %12s  %s\n' kind relation source restored result
while IFS=$'\t' read -r kind rel state; do
  restored=$(awk -F'\t' -v k="$kind" -v r="$rel" '$1 == k && $2 == r { print $3 }' "$work/restored")
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
while IFS=$'\t' read -r kind rel restored; do
  if [[ -z $(awk -F'\t' -v k="$kind" -v r="$rel" '$1 == k && $2 == r' "$work/source") ]]; then
    differences=$((differences + 1))
    printf '%-9s %-48s %12s %12s  %s\n' "$kind" "$rel" - "${restored%% *}" "EXTRA in the restore"
  fi
done < "$work/restored"

tables=$(grep -c $'^table\t' "$work/source" || true)
sequences=$(grep -c $'^sequence\t' "$work/source" || true)
if ((differences > 0)); then
  ((differences == 1)) && relations=relation || relations=relations
  echo "rehearse-restore: FAILED: $differences $relations of $source_db ($tables tables, $sequences sequences) differ in its restore"
  exit 1
fi
echo "rehearse-restore: ok: $tables tables and $sequences sequences of $source_db identical after dump and restore"
