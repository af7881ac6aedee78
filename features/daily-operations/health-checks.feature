@runbook:health-checks @readonly
Feature: Morning health checks
  The runbook's five-minute morning checks, run as written: every pod Running, no errors in the
  last day's logs, the engine's recent runs, and the data volume's usage.

  Scenario: The morning checks find every pod Running and room on the data volume
    Given the Bots EDI deployment is healthy
    When the operator runs "kubectl get pods -n edi"
    Then every listed pod is Running or Completed
    When the operator runs "kubectl get jobs -n edi -l app=bots-edi"
    And the operator runs "kubectl exec -n edi deployment/bots-webserver -- df -h /home/bots/.bots"
    Then the data volume is less than 90% full
