@runbook:daily-operations
Feature: Daily operations
  The morning checks and the status script, run as the runbook writes them.

  @runbook:health-checks @readonly
  Scenario: Morning health checks
    When the operator runs "kubectl get pods -n edi"
    And the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h /home/bots/.bots"
    Then every pod is Running

  @runbook:quick-status-check @readonly
  Scenario: The quick status script reports a healthy system
    When the operator runs:
      """
      #!/bin/bash
      echo "=== BOTS EDI STATUS ==="
      kubectl get pods -n edi -l app=bots-edi
      curl -sf https://bots-edi.pminc.me/health/ping && echo "✓ Healthy" || echo "✗ Unhealthy"
      for deployment in bots-webserver bots-jobqueue; do
        kubectl rollout status "deployment/$deployment" -n edi
      done
      """
    Then the output says "✓ Healthy"
