@gameday @readonly @runbook:service-outage
Feature: Game day: the live deployment as the on-call engineer finds it
  Read-only, so it runs in any mode: the runbook's outage checks and its database connectivity test, run as
  written against the cluster attached to. They must show a healthy deployment before a fault can mean anything,
  and they change nothing: the namespace is compared with how the game day found it.

  Scenario: The runbook's checks find the live deployment healthy, and change nothing
    Given the live deployment is healthy
    When the on-call engineer runs "kubectl get pods -n edi"
    Then its output lists every pod of deployment bots-webserver as Running
    And its output lists every pod of deployment bots-jobqueue as Running
    When the on-call engineer runs "kubectl get nodes"
    Then its output shows every node Ready
    When the on-call engineer runs "kubectl get ingress -n edi"
    And the on-call engineer runs "kubectl get events -n edi --sort-by='.lastTimestamp' | tail -20"
    And the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then its output shows the data volume less than 90% full
    When the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- nc -zv kona.db.pminc.me 3306"
    And the on-call engineer runs "kubectl get secret bots-edidb-secret -n edi"
    Then the live state is what it was when the game day began
