Feature: Restart and scale the webserver

  @runbook:restart-a-service @destructive @rto:5m
  Scenario: Restart the webserver
    When the operator runs "kubectl rollout restart deployment/bots-webserver -n edi"
    And the operator runs "kubectl rollout status deployment/bots-webserver -n edi"
    And the operator runs "kubectl get pods -n edi -l component=webserver"
    Then every pod is Running

  @runbook:scale-webserver @destructive
  Scenario Outline: Scale the webserver to <replicas> replicas
    When the operator runs "kubectl scale deployment/bots-webserver -n edi --replicas=<replicas>"
    Then <replicas> webserver pods are Ready

    Examples:
      | replicas |
      | 5        |
      | 2        |

  @runbook:manual-engine-run
  Scenario: Run the engine by hand
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    And the operator runs "kubectl logs -n edi -f job/bots-engine-manual-1767225600"
    Then the job completes
