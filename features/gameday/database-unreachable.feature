@gameday @destructive @runbook:database-connection-loss @rto:5-30m
Feature: Game day: the database unreachable from the cluster
  A network fault a real cluster can have: a NetworkPolicy denies the application's egress to the database's
  address (the cluster's CNI enforces it), as a firewall change would. The database itself keeps running. The
  runbook's connectivity test finds it; its resolution for a network issue is "check firewall, security groups",
  with no command, so the policy is removed by hand; the deployment must then recover on its own.

  Scenario: A NetworkPolicy cuts the database off; the runbook's test finds it; removed, the service recovers
    Given the live deployment is healthy
    When the fault "the database unreachable" is injected
    And the on-call engineer repeats "kubectl exec -n edi deployment/bots-webserver -- nc -zv kona.db.pminc.me 3306" until it fails (within 5m)
    Then the fault is detected by that check
    And its output shows a database connection error
    When the on-call engineer runs "kubectl get pods -n edi"
    And the on-call engineer runs "kubectl get secret bots-edidb-secret -n edi"
    And the fault "the database unreachable" is undone by hand: the runbook says "check firewall, security groups" and gives no command
    Then the live deployment recovers within 30m
    When the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- nc -zv kona.db.pminc.me 3306"
    Then the fault is rolled back and the state is as before it
