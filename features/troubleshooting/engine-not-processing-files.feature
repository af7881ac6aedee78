@runbook:engine-not-processing-files
Feature: Engine not processing files
  When files pile up, check the CronJob, its recent Jobs and their logs; a suspended CronJob is the
  first common cause, and the runbook's patch resumes it: the CronJob then starts the run it missed by itself
  (which also shows that the CronJob as deployed runs on its schedule).

  Scenario: A suspended engine CronJob is found and resumed
    Given the Bots EDI deployment is healthy
    And the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    When the operator runs "kubectl get cronjob bots-engine -n edi"
    Then the output shows the CronJob suspended
    When the operator runs "kubectl get jobs -n edi -l app=bots-edi"
    Then the output contains "bots-engine-manual-"
    When the operator runs "kubectl logs -n edi job/<latest-job-name>"
    Then the output does not contain "failed:"
    When the operator runs "kubectl patch cronjob/bots-engine -n edi -p '{"spec":{"suspend":false}}'"
    And the operator runs "kubectl get cronjob bots-engine -n edi"
    Then the output shows the CronJob not suspended
    And the engine CronJob starts a Job on its own within 6m
    And the engine job finishes "Complete" within 3m
