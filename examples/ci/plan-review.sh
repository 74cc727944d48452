#!/bin/sh
# Plan a Terraform configuration and summarize the plan for a review:
#   terraform init, terraform plan -out, terraform show -json,
#   eventpipe plan-summary.
#
# `terraform init` runs first (it is quick when nothing changed), so a
# change that adds a module or a provider plans instead of failing with
# "Module not installed". Providers come from wherever the CLI
# configuration says (TF_CLI_CONFIG_FILE, e.g. the eventpipe mirror).
#
# Usage: plan-review.sh [DIR]   (DIR: the configuration, default .)
#
# Writes the Markdown summary to $SUMMARY_FILE (default DIR/plan-summary.md)
# and to standard output. Exits with eventpipe plan-summary's status:
# 0, or 11 when the plan widens a pipeline's IAM permissions
# (--fail-on iam-widening); any other failure exits non-zero too.
# The GitHub Actions workflow beside this script runs it, and so do the
# project's tests, against the emulator.
#
# TERRAFORM and EVENTPIPE name the binaries (default: from PATH);
# FAIL_ON overrides the kinds gated on (space-separated); EXPECT_KMS_KEY
# (space-separated key ARNs) flags a bucket not encrypted with one of them
# and then exits 14 (--expect-kms-key).
set -eu

dir="${1:-.}"
terraform="${TERRAFORM:-terraform}"
eventpipe="${EVENTPIPE:-eventpipe}"
fail_on="${FAIL_ON:-iam-widening}"
expect_kms_key="${EXPECT_KMS_KEY:-}"

cd "$dir"
summary="${SUMMARY_FILE:-$PWD/plan-summary.md}"

"$terraform" init -input=false -no-color >init.log 2>&1 || {
    cat init.log >&2
    exit 1
}
"$terraform" plan -input=false -no-color -out=tfplan >plan.log 2>&1 || {
    cat plan.log >&2
    exit 1
}
"$terraform" show -json tfplan >plan.json

set --
for kind in $fail_on; do
    set -- "$@" --fail-on "$kind"
done
for key in $expect_kms_key; do
    set -- "$@" --expect-kms-key "$key"
done
status=0
"$eventpipe" plan-summary "$@" plan.json >"$summary" || status=$?
cat "$summary"
exit "$status"
