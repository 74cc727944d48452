#!/usr/bin/env bash
# make demo: the whole pipeline on a laptop. Installs the freshly built
# provider into a private filesystem mirror, starts the moto AWS emulator,
# applies examples/basic, shows an object flowing through, destroys it all.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${EVENTPIPE_TOOLS_DIR:-$ROOT/.tools}"
PY="$TOOLS/venv/bin/python"
BIN="${EVENTPIPE_PROVIDER_BIN:-$ROOT/target/debug/terraform-provider-eventpipe}"
TF="${TERRAFORM:-terraform}"
VERSION=0.2.0

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[[ -x "$BIN" ]] || { echo "demo: build the provider first (make demo does)"; exit 1; }
[[ -x "$PY" ]] || { echo "demo: run scripts/setup-tools.sh first (make demo does)"; exit 1; }

WORK="$(mktemp -d -t eventpipe-demo-XXXXXX)"
MOTO_PID=""
cleanup() {
  [[ -n "$MOTO_PID" ]] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The provider, found by a plain `terraform init` through a filesystem mirror.
OS_ARCH="$(uname -s | tr A-Z a-z)_$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')"
PKG="$WORK/mirror/registry.terraform.io/eventpipe/eventpipe/$VERSION/$OS_ARCH"
mkdir -p "$PKG"
cp "$BIN" "$PKG/terraform-provider-eventpipe_v$VERSION"
cat >"$WORK/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$WORK/mirror"
    include = ["registry.terraform.io/eventpipe/*"]
  }
  direct {
    exclude = ["registry.terraform.io/eventpipe/*"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$WORK/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 TF_INPUT=0

say "Starting the AWS emulator (moto server)"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$TOOLS/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
for _ in $(seq 100); do
  curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break
  sleep 0.1
done
# Functions run without docker; the emulator records each delivery instead.
curl -sf -X POST "$AWS_ENDPOINT_URL/moto-api/config" -d '{"lambda":{"use_docker":false}}' >/dev/null
echo "emulator on $AWS_ENDPOINT_URL"

# examples/basic as a user would copy it, next to the module it uses.
mkdir -p "$WORK/root/modules"
cp -r "$ROOT/modules/event-pipeline" "$WORK/root/modules/"
cp -r "$ROOT/examples/basic/." "$WORK/root/"
rm -rf "$WORK/root/tests" "$WORK/root/.terraform"
sed -i 's#../../modules/event-pipeline#./modules/event-pipeline#' "$WORK/root/main.tf"
cd "$WORK/root"

say "terraform init (the provider comes from the local mirror)"
"$TF" init -no-color | grep -E "Installing|Installed|initialized" || true

say "terraform plan — what a reviewer sees"
# The emulator treats the TLS-only bucket policy as a blanket deny, so the
# demo turns it off to be able to upload; on AWS keep the default (true).
"$TF" plan -no-color -var require_tls=false -out plan.tfplan >"$WORK/plan.txt"
sed '/^Plan:/q' "$WORK/plan.txt" | grep -E '^\s+\+ (bucket_name|function_name|role_name|source_code_hash|runtime|handler|memory_size|timeout|filter_prefix|filter_suffix|output_prefix)\b' | sed 's/^ */  /'
grep -E '^Plan:' "$WORK/plan.txt"
echo "  inline IAM policy (policy_json, known at plan time):"
"$TF" show -json plan.tfplan | "$PY" -c '
import json, sys
plan = json.load(sys.stdin)
for rc in plan["resource_changes"]:
    policy = json.loads(rc["change"]["after"]["policy_json"])
    for st in policy["Statement"]:
        as_list = lambda v: v if isinstance(v, list) else [v]
        print("    {}: {}".format(st["Sid"], ", ".join(as_list(st["Action"]))))
        for r in as_list(st["Resource"]):
            print("        on " + r)
'

say "terraform apply"
"$TF" apply -no-color plan.tfplan | grep -E "Creation complete|Apply complete"
BUCKET="$("$TF" output -raw bucket_name)"
FUNCTION="$("$TF" output -raw function_name)"

say "Uploading two orders under data/ (one valid, one not)"
"$PY" "$ROOT/scripts/demo_flow.py" "$BUCKET" "$FUNCTION" "$ROOT/examples/basic/app"

say "Second plan: nothing to change"
"$TF" plan -no-color -var require_tls=false -detailed-exitcode >/dev/null && echo "  No changes. Infrastructure matches the configuration."

say "terraform destroy"
"$TF" destroy -no-color -auto-approve -var require_tls=false | grep -E "Destruction complete|Destroy complete"
"$PY" - <<'PY'
import boto3
s3, lam, iam = boto3.client("s3"), boto3.client("lambda"), boto3.client("iam")
left = len(s3.list_buckets()["Buckets"]) + len(lam.list_functions()["Functions"]) + len(iam.list_roles()["Roles"])
print(f"  left in the emulator: {left} buckets, functions or roles")
PY
say "Done"
