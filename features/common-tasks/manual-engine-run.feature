@runbook:manual-engine-run
Feature: Manual engine run
  A Job made from the engine's CronJob runs the real Bots engine over the inbound directory now,
  instead of at the next five-minute mark.

  Scenario: A good EDIFACT order is translated by a manual engine run
    Given the Bots EDI deployment is healthy
    And the sample file "ORDERS_good.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    When the operator runs "kubectl logs -n edi -f job/bots-engine-manual-<timestamp>"
    Then the output does not contain "failed:"
    And the database holds at least 1 done transactions within 1m
    And the translated order is in the outbound directory

  Scenario: A malformed order is recorded as an error with its cause
    Given the Bots EDI deployment is healthy
    And the sample file "ORDERS_malformed.edi" is in the inbound directory
    When the operator runs "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    Then the engine job finishes "Complete" within 3m
    And the database records an error for the malformed file
    And the first engine run's log names the failed file and its cause
