@runbook:service-outage @destructive @slow @rto:15m
Feature: Service outage
  The node's kubelet stops: the node goes NotReady and every Bots EDI pod leaves service, while the
  containers keep running unmanaged. The runbook's four checks are run as written and each is shown for
  what it reveals; the resolution for a NotReady node brings the service back, and the time from the
  fault to every pod Ready again is compared with the runbook's 15 minutes.

  Scenario: Every pod down with its node; the checks find the node, its kubelet is started again
    Given the Bots EDI deployment is healthy
    When the node's kubelet stops
    Then the web UI is unreachable within 3m
    # 1. Pod status: the pods still read 1/1 Running (nothing updates them): this check alone misleads.
    When the operator runs "kubectl get pods -n edi"
    Then the output lists every Bots EDI pod as Running and Ready
    # 2. Node status: the cause.
    When the operator runs "kubectl get nodes"
    Then the output shows the node NotReady
    # 3. Ingress: its backend has no endpoints left.
    When the operator runs "kubectl get ingress -n edi"
    Then the output contains "bots-edi-ingress"
    When the operator runs "kubectl describe ingress bots-edi-ingress -n edi"
    Then the output shows the backend bots-webserver with no endpoints
    # 4. Events: the node controller's NodeNotReady on every pod.
    When the operator runs "kubectl get events -n edi --sort-by='.lastTimestamp' | tail -20"
    Then the output contains "NodeNotReady"
    # Resolution: "If nodes NotReady: check node health".
    When the operator runs "systemctl status kubelet" on the node, which fails
    Then the output contains "inactive (dead)"
    When the operator runs "systemctl start kubelet" on the node
    Then every Bots EDI pod is Ready again within 15m
    When the operator runs "kubectl get nodes"
    Then the output shows the node Ready
    When the operator runs "kubectl describe ingress bots-edi-ingress -n edi"
    Then the output shows the backend bots-webserver with 2 endpoints
