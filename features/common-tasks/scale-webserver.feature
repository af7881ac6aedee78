@runbook:scale-webserver
Feature: Scale the webserver
  Scaling changes how many webserver pods serve; the Service must follow.

  Scenario: Scaling up to five and back down to two
    Given the Bots EDI deployment is healthy
    When the operator runs "kubectl scale deployment/bots-webserver -n edi --replicas=5"
    Then deployment bots-webserver has 5 Ready pods within 3m
    And service bots-webserver has 5 ready endpoints within 1m
    When the operator runs "kubectl scale deployment/bots-webserver -n edi --replicas=2"
    Then deployment bots-webserver has 2 Ready pods within 2m
    And service bots-webserver has 2 ready endpoints within 1m
    When the operator runs "kubectl get pods -n edi -l component=webserver"
    Then the output lists 2 pods, all Running
