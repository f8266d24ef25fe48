#!/bin/sh
# Prints deploy/k8s/prometheusrule.yaml: the groups of
# deploy/prometheus/alerts.yml (the one copy of the alerting rules, which the
# compose stack's Prometheus loads as a rule file) wrapped in a Prometheus
# Operator PrometheusRule. `make k8s-rules` rewrites the file;
# tests/deploy/manifests_test.py fails when it is out of date.
set -eu
alerts="$(dirname "$0")/../prometheus/alerts.yml"
grep -q '^groups:' "$alerts" || { echo "prometheusrule.sh: no 'groups:' in $alerts" >&2; exit 1; }
cat <<'HEADER'
# Generated from deploy/prometheus/alerts.yml by deploy/k8s/prometheusrule.sh
# (make k8s-rules): edit alerts.yml, not this file.
#
# Prometheus Operator: mlpserve's alerting rules. Your Prometheus resource's
# ruleSelector (and ruleNamespaceSelector) must match this object.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: mlpserve
  labels:
    app.kubernetes.io/name: mlpserve
    app.kubernetes.io/component: inference-server
spec:
HEADER
# alerts.yml from its `groups:` line on, indented under spec.
sed -n '/^groups:/,$p' "$alerts" | sed 's/^\(.\)/  \1/'
