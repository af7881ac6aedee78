@runbook:quick-status-check @destructive
Feature: Quick status check
  The runbook's status script, saved as check-bots-status.sh exactly as written and run: every section it
  prints agrees with the cluster, and its health line tells a healthy webserver from one that is down.
  The health line's curl goes to https://bots-edi.pminc.me through the cluster's ingress, with TLS: curl
  reaches the name on this machine's loopback port and trusts the cluster's CA (env.yaml `ingress`). The engine CronJob keeps 3 successful Jobs
  (successfulJobsHistoryLimit), so after 4 runs "Recent Jobs" shows the 3 kept and the db-init Job.

  Scenario: Every section agrees with the cluster; the health line turns Unhealthy with the webserver down
    Given the Bots EDI deployment is healthy
    And the engine has run 4 times from the CronJob, one after the other
    When the operator saves the script as "check-bots-status.sh" and runs it:
      """
      #!/bin/bash
      # save as: check-bots-status.sh

      echo "=== BOTS EDI STATUS ==="
      echo

      echo "Pods:"
      kubectl get pods -n edi -l app=bots-edi

      echo

      echo "Services:"
      kubectl get svc -n edi

      echo

      echo "Recent Jobs:"
      kubectl get jobs -n edi -l app=bots-edi --sort-by=.metadata.creationTimestamp | tail -5

      echo

      echo "Ingress:"
      kubectl get ingress -n edi

      echo

      echo "Health Check:"
      curl -sf https://bots-edi.pminc.me/health/ping && echo "✓ Healthy" || echo "✗ Unhealthy"
      """
    Then the status report's "Pods" section lists every Bots EDI pod with its status
    And the status report's "Services" section lists every Service of the namespace
    And the status report's "Recent Jobs" section shows the newest Bots EDI Jobs, at most 5
    And the status report's "Ingress" section lists every Ingress with its hosts
    And the status report's health line ends with "✓ Healthy"
    When deployment bots-webserver is scaled to 0 replicas
    Then deployment bots-webserver has 0 Ready pods within 2m
    And the web UI is unreachable within 2m
    When the operator runs the saved script "check-bots-status.sh" again
    Then the status report's "Pods" section lists every Bots EDI pod with its status
    And the status report's health line ends with "✗ Unhealthy"
