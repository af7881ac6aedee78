@gameday @destructive @runbook:update-container-image @rto:15m
Feature: Game day: an image that does not exist rolled out
  The Update Container Image procedure with a wrong tag: the new pod cannot pull its image (ErrImagePull, or
  ErrImageNeverPull where images are loaded into the nodes and never pulled), the old pods keep serving (the rolling update never takes them down first). The runbook's pod check finds the failing pod; the
  runbook has no rollback step for an image update, so the image observed before is set back by hand.

  Scenario: A bad image tag; the pod check finds it; the runbook has no rollback, the image is set back by hand
    Given the live deployment is healthy
    When the fault "a bad image rolled out" is injected
    And the on-call engineer repeats "kubectl get pods -n edi -l component=webserver" until its output shows "ErrImage" (within 3m)
    Then its output shows a pod of deployment bots-webserver that cannot pull its image
    And the fault is detected by that check
    And the runbook's "Update Container Image" does not work as written: it gives no step to go back to the image before
    When the fault "a bad image rolled out" is undone by hand: the runbook has no rollback step for an image update
    Then the live deployment recovers within 15m
    When the on-call engineer runs "kubectl rollout status deployment/bots-webserver -n edi"
    Then the fault is rolled back and the state is as before it
