@runbook:health-check-failing @readonly
Feature: Health check failing
  The runbook tests the probes by hand from inside a webserver pod. The probes the Deployment really
  uses must be those health endpoints: an application that answers 200 on every path makes a probe on
  a wrong path pass while it checks nothing.

  Scenario: The liveness and readiness endpoints answer, and the probes use them
    Given the Bots EDI deployment is healthy
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        curl -f http://localhost:8080/health/live
      """
    Then the output contains "ok"
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        curl -f http://localhost:8080/health/ready
      """
    Then the output contains "database"
    And every probe of deployment bots-webserver answers with a health report
