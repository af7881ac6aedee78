@gameday @destructive @multinode @runbook:service-outage @rto:15m
Feature: Game day: a node drained
  The runbook's resolution for a NotReady node ("may need to drain/cordon"), done to a healthy one: the node a
  webserver pod runs on is cordoned and the deployment's pods on it evicted. Their Deployment places them on
  another node (the pod disruption budget keeps one serving throughout); the node is uncordoned afterwards.
  Needs a cluster with another schedulable node.

  Scenario: The node of a webserver pod drained; the pods move; uncordoned afterwards
    Given the live deployment is healthy
    When the fault "a node drained" is injected
    And the on-call engineer runs "kubectl get nodes"
    Then its output shows a node cordoned
    And the fault is detected by that check
    Then the live deployment recovers within 15m
    When the on-call engineer runs "kubectl get pods -n edi"
    Then its output lists every pod of deployment bots-webserver as Running
    And no pod of deployment bots-webserver runs on the drained node
    And the fault is rolled back and the state is as before it
    When the on-call engineer runs "kubectl get nodes"
    Then its output shows every node Ready
