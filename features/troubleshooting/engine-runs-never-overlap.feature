@runbook:engine-not-processing-files @destructive @slow
Feature: Engine runs never overlap
  "Concurrency policy blocking: wait for the current job to complete." Two engines at once corrupt Bots'
  state (the second finds the mutex row and runs crash recovery), so the engine CronJob must never start a
  run while one is still going: concurrencyPolicy Forbid, proven by behaviour, not only by the field.

  Scenario: A run that cannot finish holds back the next scheduled one
    Given the Bots EDI deployment is healthy
    And no new pod can start (every node cordoned)
    And the engine CronJob runs every minute
    Then the engine CronJob starts a Job on its own within 2m
    And no second engine Job starts while it runs, through the next scheduled minute
