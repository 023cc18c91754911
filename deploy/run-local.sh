#!/usr/bin/env bash
# Runs every Valued service as its own process on this machine, the way Kubernetes runs them: against
# PostgreSQL (one database per service), RabbitMQ and an SMTP server. Ctrl-C stops them all.
#
#   AMQP_URL=amqp://USER:PASSWORD@127.0.0.1:5672/%2f deploy/run-local.sh
#
# Environment (defaults in brackets):
#   AMQP_URL       the RabbitMQ broker (required; no default credentials are assumed)
#   PGHOST PGPORT PGUSER   PostgreSQL with trust auth [127.0.0.1 5432 postgres]
#   SMTP_HOST SMTP_PORT SMTP_TLS   where notification sends email [127.0.0.1 1025 none]
#   GATEWAY_PORT   the web UI [8080]
#   OTLP_ENDPOINT  an OpenTelemetry collector, e.g. http://127.0.0.1:4317 [none]
#   BUS_PREFIX     exchange and queue prefix, to share a broker [valued]
#   VOTER_KEY_SECRET  the voting service's voter key [made once, kept in target/run-local/voter-key]
# Each service's key for service credentials is made once and kept in target/run-local/service-key-*.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ -z ${AMQP_URL:-} ]]; then
  echo "run-local: set AMQP_URL, e.g. AMQP_URL=amqp://USER:PASSWORD@127.0.0.1:5672/%2f $0" >&2
  exit 2
fi
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
psql=(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -v ON_ERROR_STOP=1)

services=(nomination voting survey-feedback notification)
declare -A grpc_port=([nomination]=50051 [voting]=50052 [survey-feedback]=50053 [notification]=50054)

# One database per service.
for service in "${services[@]}"; do
  db=${service//-/_}
  if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
    "${psql[@]}" -qc "CREATE DATABASE $db"
    echo "run-local: created database $db"
  fi
done

cargo build --release -p valued
valued=${CARGO_TARGET_DIR:-target}/release/valued

export VALUED__BUS__KIND=amqp
export VALUED__BUS__AMQP_URL=$AMQP_URL
export VALUED__BUS__PREFIX=${BUS_PREFIX:-valued}
export VALUED__TELEMETRY__OTLP_ENDPOINT=${OTLP_ENDPOINT:-}
for service in "${services[@]}"; do
  section=${service//-/_}
  section=${section^^}
  export "VALUED__${section}__DATABASE__URL=postgres://$PGUSER@$PGHOST:$PGPORT/${service//-/_}"
  export "VALUED__${section}__DATABASE__MIGRATE_ON_START=false"
  export "VALUED__${section}__GRPC__HOST=127.0.0.1"
  export "VALUED__${section}__GRPC__PORT=${grpc_port[$service]}"
  export "VALUED__${section}__URL=http://127.0.0.1:${grpc_port[$service]}"
done
# The voter key must stay the same while a ballot is open: made once, kept beside the build.
if [[ -z ${VOTER_KEY_SECRET:-} ]]; then
  mkdir -p target/run-local
  [[ -s target/run-local/voter-key ]] || head -c 32 /dev/urandom | base64 > target/run-local/voter-key
  VOTER_KEY_SECRET=$(cat target/run-local/voter-key)
fi
export VALUED__VOTING__VOTER_KEY_SECRET=$VOTER_KEY_SECRET
# The master key stories' phone numbers are sealed under: made once, kept beside the build.
[[ -s target/run-local/story-sealing-key ]] || head -c 32 /dev/urandom | base64 > target/run-local/story-sealing-key
export VALUED__SURVEY_FEEDBACK__STORIES__SEALING__KEYS__LOCAL=$(cat target/run-local/story-sealing-key)
export VALUED__SURVEY_FEEDBACK__STORIES__SEALING__CURRENT=local
# Each service's key for the credentials its callers sign with: made once, read by the service and
# by the gateway alike.
mkdir -p target/run-local
for service in "${!grpc_port[@]}"; do
  section=$(echo "${service//-/_}" | tr '[:lower:]' '[:upper:]')
  [[ -s target/run-local/service-key-$service ]] || head -c 32 /dev/urandom | base64 > "target/run-local/service-key-$service"
  export "VALUED__${section}__GRPC__SERVICE_KEY=$(cat "target/run-local/service-key-$service")"
done
# This is a developer's machine: `valued serve` may serve the developer outbox (every email, with
# personal details, at /outbox), which the gateway lists on its own behalf.
export VALUED__DEVELOPER_MACHINE=true
export VALUED__NOTIFICATION__DEVELOPER_OUTBOX=true
export VALUED__NOTIFICATION__EMAIL__TRANSPORT=smtp
export VALUED__NOTIFICATION__EMAIL__PUBLIC_URL=http://127.0.0.1:${GATEWAY_PORT:-8080}
export VALUED__NOTIFICATION__SMTP__HOST=${SMTP_HOST:-127.0.0.1}
export VALUED__NOTIFICATION__SMTP__PORT=${SMTP_PORT:-1025}
export VALUED__NOTIFICATION__SMTP__TLS=${SMTP_TLS:-none}
export VALUED__GATEWAY__HTTP__HOST=127.0.0.1
export VALUED__GATEWAY__HTTP__PORT=${GATEWAY_PORT:-8080}

for service in "${services[@]}"; do
  "$valued" migrate "$service"
done

pids=()
stop() {
  trap - EXIT
  if ((${#pids[@]})); then kill -TERM "${pids[@]}" 2>/dev/null || true; fi
  wait
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for service in "${services[@]}" gateway; do
  # The prefixing sed ignores Ctrl-C so that the services' shutdown logs still get through.
  "$valued" serve "$service" > >(trap '' INT; exec sed -u "s/^/[$service] /") 2>&1 &
  pids+=($!)
done
echo "run-local: Valued is running on http://127.0.0.1:${GATEWAY_PORT:-8080}/ (Ctrl-C stops every service)"

# When any service exits on its own, stop the others (the EXIT trap) and pass its status on.
status=0
wait -n "${pids[@]}" || status=$?
echo "run-local: a service exited with status $status; stopping the others" >&2
exit "$status"
