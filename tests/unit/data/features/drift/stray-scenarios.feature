Feature: Scenarios that have drifted from the runbook

  @runbook:service-outage
  Scenario: Pods are listed during an outage
    When the operator runs "kubectl get pods -n edi"
    Then every pod is Running

  @runbook:rotate-the-logs
  Scenario: A procedure the runbook no longer has
    When the operator runs "kubectl delete pod -n edi -l component=logrotate"
    Then the logs are rotated

  Scenario: A scenario without a runbook tag
    When the operator runs "kubectl get nodes"
    Then every node is Ready
