@runbook:pod-wont-start @destructive
Feature: Pod won't start
  One scenario per common issue the runbook names. Each plants the fault, finds the broken pod, runs the
  runbook's `kubectl describe pod` on it and shows that its output names the cause, applies the fix, and
  measures the time from finding the pod to every pod Ready again. The webserver's RollingUpdate
  (maxUnavailable 0) keeps the old pods serving meanwhile.

  Scenario: ImagePullBackOff: the image cannot be pulled; rolled back
    Given the Bots EDI deployment is healthy
    And deployment bots-webserver is rolled out with an image that cannot be pulled
    Then a new pod of deployment bots-webserver is stuck in ImagePullBackOff within 3m, noted as <pod-name>
    When the operator runs "kubectl describe pod <pod-name> -n edi"
    Then the output contains "Failed to pull image"
    And the output contains "Back-off pulling image"
    And GET /health/ready answers 200
    When the operator runs "kubectl rollout undo deployment/bots-webserver -n edi"
    Then every Bots EDI pod is Ready again within 5m

  @runbook:view-logs
  Scenario: CrashLoopBackOff: a broken bots.ini; the config fixed and the pods restarted
    Given the Bots EDI deployment is healthy
    And the operator's editor will change "[settings]" to "settings]"
    When the operator runs "kubectl edit configmap bots-config-ini -n edi"
    And the operator runs "kubectl rollout restart deployment/bots-webserver -n edi"
    Then a new pod of deployment bots-webserver is stuck in CrashLoopBackOff within 5m, noted as <pod-name>
    When the operator runs "kubectl describe pod <pod-name> -n edi"
    Then the output contains "Back-off restarting failed container"
    And the output contains "MissingSectionHeaderError"
    When the operator runs "kubectl logs -n edi <pod-name> --previous"
    Then the output contains "MissingSectionHeaderError"
    And GET /health/ready answers 200
    Given the operator's editor will change "settings]" to "[settings]"
    When the operator runs "kubectl edit configmap bots-config-ini -n edi"
    And the operator runs "kubectl rollout restart deployment/bots-webserver -n edi"
    Then every Bots EDI pod is Ready again within 5m

  Scenario: Pending: a CPU request no node can satisfy; rolled back
    Given the Bots EDI deployment is healthy
    And deployment bots-webserver is rolled out asking for more CPU than any node has
    Then a new pod of deployment bots-webserver is stuck in Pending within 3m, noted as <pod-name>
    When the operator runs "kubectl describe pod <pod-name> -n edi"
    Then the output contains "FailedScheduling"
    And the output contains "Insufficient cpu"
    And GET /health/ready answers 200
    When the operator runs "kubectl rollout undo deployment/bots-webserver -n edi"
    Then every Bots EDI pod is Ready again within 5m
