@gameday @destructive @runbook:service-outage @rto:15m
Feature: Game day: the webserver's pods lost
  Two ways a live cluster loses its webserver pods: all of them deleted at once (their Deployment replaces them),
  and the Deployment scaled to zero (nothing replaces them until the runbook's scale command runs). The runbook's
  pod check finds each; the recovery is timed against the outage target.

  Scenario: Every webserver pod deleted; the Deployment replaces them
    Given the live deployment is healthy
    When the fault "every webserver pod deleted" is injected
    And the on-call engineer runs "kubectl get pods -n edi"
    Then the live deployment recovers within 15m
    When the on-call engineer runs "kubectl get pods -n edi"
    Then its output lists every pod of deployment bots-webserver as Running
    And the fault is rolled back and the state is as before it

  Scenario: The webserver scaled to zero; the runbook's pod check finds none; its scale command brings them back
    Given the live deployment is healthy
    When the fault "the webserver scaled to zero" is injected
    And the on-call engineer repeats "kubectl get pods -n edi -l component=webserver" until its output shows "No resources found" (within 3m)
    Then its output shows no pod of deployment bots-webserver
    And the fault is detected by that check
    When the on-call engineer applies the runbook's fix "kubectl scale deployment/bots-webserver -n edi --replicas=2"
    Then the live deployment recovers within 15m
    And the fault is rolled back and the state is as before it
