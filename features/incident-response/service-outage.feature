@runbook:service-outage @destructive @slow @rto:15m
Feature: Service outage
  Two outages, each found by the runbook's four checks run as written, each check shown for what it reveals,
  and the time from the fault to the service back compared with the runbook's 15 minutes. The node's kubelet
  stops: the node goes NotReady and every Bots EDI pod leaves service, while the containers keep running
  unmanaged; the resolution for a NotReady node brings it back. And the Ingress breaks (its backend names a
  Service port that does not exist): every pod is fine, the site is down for its users over HTTPS, and the
  resolution "reapply correct ingress manifest" brings it back.

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

  Scenario: A broken Ingress; the ingress checks find it; the correct manifest reapplied brings the site back
    Given the Bots EDI deployment is healthy
    And GET /health/ping through the ingress answers 200
    And the deployment's Ingress manifest is saved as "bots-edi-ingress.yaml"
    When the Ingress's backend port is renamed to "web"
    Then the site is unreachable through the ingress within 2m
    And GET /health/ping answers 200
    When the operator runs "kubectl get pods -n edi"
    Then the output lists every Bots EDI pod as Running and Ready
    When the operator runs "kubectl get nodes"
    Then the output shows the node Ready
    When the operator runs "kubectl get ingress -n edi"
    Then the output contains "bots-edi-ingress"
    # Every pod Ready and the node Ready, yet the backend lists no endpoints: the Ingress names a port
    # (web) the Service does not have (http).
    When the operator runs "kubectl describe ingress bots-edi-ingress -n edi"
    Then the output shows the backend bots-webserver with no endpoints
    And the output contains "bots-webserver:web ()"
    # Resolution: "If ingress misconfigured: reapply correct ingress manifest".
    When the operator runs "kubectl apply -f bots-edi-ingress.yaml -n edi"
    Then GET /health/ping through the ingress answers 200 within 15m
    When the operator runs "kubectl describe ingress bots-edi-ingress -n edi"
    Then the output shows the backend bots-webserver with 2 endpoints
