@runbook:restart-a-service
Feature: Restart a service
  `kubectl rollout restart` replaces every pod of a workload. The webserver's RollingUpdate
  (maxSurge 1, maxUnavailable 0) must keep serving while it happens: not one failed HTTPS request through the
  ingress, as the site's users send them.

  Scenario: Restarting the webserver replaces every pod without a failed request
    Given the Bots EDI deployment is healthy
    And the pods of deployment bots-webserver are noted
    And requests to /health/ping are sent through the ingress continuously
    When the operator runs "kubectl rollout restart deployment/bots-webserver -n edi"
    And the operator runs "kubectl rollout status deployment/bots-webserver -n edi"
    Then deployment bots-webserver runs only new pods, all Ready, within 3m
    And no request to /health/ping failed

  Scenario: Restarting the job queue replaces its pod
    Given the Bots EDI deployment is healthy
    And the pods of deployment bots-jobqueue are noted
    When the operator runs "kubectl rollout restart deployment/bots-jobqueue -n edi"
    And the operator runs "kubectl rollout status deployment/bots-jobqueue -n edi"
    Then deployment bots-jobqueue runs only new pods, all Ready, within 3m
